export * from './config.ts';
export * from './routes.ts';
export * from './tiles.ts';
export * from './client.ts';
export * from './signer.ts';
export * from './leader.ts';
export * from './metrics.ts';
export * from './log-server.ts';
