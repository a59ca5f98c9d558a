export * from './transport.ts';
export * from './producer.ts';
export * from './kafka-transport.ts';
export * from './spool/index.ts';
export { developmentProducerKey, formatProducerKey, parseProducerKey, HEADER_AUTH, HEADER_KEY_ID, HEADER_PRODUCER, type ProducerKey } from '@sporbar/key-store/producer-auth';
