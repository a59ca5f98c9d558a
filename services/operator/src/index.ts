export * from './deployment.ts';
export * from './init.ts';
export * from './rotate.ts';
export * from './token.ts';
export * from './key-dir.ts';
export { main, type CliIo } from './command.ts';
