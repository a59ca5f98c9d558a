export * from './transport.ts';
export * from './producer.ts';
export * from './kafka-transport.ts';
export * from './spool/index.ts';
