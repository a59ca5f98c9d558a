export * from './config.ts';
export * from './leader-lock.ts';
export * from './metrics.ts';
export * from './overdue.ts';
export * from './retention-service.ts';
