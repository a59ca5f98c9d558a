export { buildHttpIngest, httpEventBodySchema, type HttpIngestOptions } from './http-ingest.ts';
export { httpEventSchema, httpEventSchemas, HTTP_EVENT_TYPES, HTTP_SHAPES, type HttpEventType, type HttpShape, type JsonSchema } from './request-schema.ts';
export { gatewayEnv, readGatewayConfig, type GatewayConfig } from './config.ts';
