export * from './app.ts';
export * from './report.ts';
