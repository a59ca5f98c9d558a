export * from './errors.ts';
export * from './generated/events.ts';
export * from './avro/canonical-form.ts';
export * from './avro/crc64-avro.ts';
export * from './avro/logical-types.ts';
export * from './avro/schema-catalogue.ts';
export * from './avro/compatibility.ts';
export * from './avro/codec.ts';
