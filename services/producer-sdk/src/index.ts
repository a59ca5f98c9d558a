export * from './transport.ts';
export * from './producer.ts';
