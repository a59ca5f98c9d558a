export * from './sql.ts';
export * from './projection.ts';
export * from './runner.ts';
export * from './subject-disclosures/subject-disclosures.ts';
export * from './subject-disclosures/queries.ts';
