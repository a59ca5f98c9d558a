export { buildHttpIngest, httpEventBodySchema, GATEWAY_AJV_OPTIONS, type HttpIngestOptions, type ItemResult } from './http-ingest.ts';
export { checkBody, fieldPath, type BodyCheck, type HttpEvent, type ItemProblem } from './validate-body.ts';
export { httpEventSchema, httpEventSchemas, HTTP_EVENT_TYPES, HTTP_SHAPES, type HttpEventType, type HttpShape, type JsonSchema } from './request-schema.ts';
export { gatewayEnv, readGatewayConfig, type GatewayConfig } from './config.ts';
