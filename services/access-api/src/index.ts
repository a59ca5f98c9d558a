export * from './app.ts';
export * from './auth.ts';
export * from './report.ts';
export * from './art15-report.ts';
export * from './read-models.ts';
export * from './record-view.ts';
export * from './dev-token.ts';
export * from './params.ts';
