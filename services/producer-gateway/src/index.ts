export { buildHttpIngest, httpEventBodySchema, GATEWAY_AJV_OPTIONS, type HttpIngestOptions, type ItemResult, type Principal } from './http-ingest.ts';
export { checkBody, fieldPath, type BodyCheck, type HttpEvent, type ItemProblem } from './validate-body.ts';
export { httpEventSchema, httpEventSchemas, HTTP_EVENT_TYPES, HTTP_SHAPES, type HttpEventType, type HttpShape, type JsonSchema } from './request-schema.ts';
export { gatewayEnv, loadGatewayConfig, readGatewayConfig, type GatewayConfig } from './config.ts';
export { buildGateway, type Gateway } from './gateway.ts';
export { parseGatewayClients, producerOfClient, authorizeByRegistry, clientsRegistryProblems, allowListsOf, PRODUCER_ID, type Authorize, type Verdict, type GatewayClient, type GatewayClients } from './clients.ts';
export { createTokenVerifier, bearerToken, clientIdOf, checkLifetime, TOKEN_ALGORITHMS, type TokenVerifier, type TokenVerifierOptions, type VerifiedToken } from '@sporbar/common/oidc-token';
export { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
