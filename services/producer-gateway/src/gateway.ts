import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { OpsCheck } from '@sporbar/common/health';
import { createProducer, type Producer, type Transport } from '@sporbar/producer';
import { authorizeByRegistry, producerOfClient, type Authorize } from './clients.ts';
import type { GatewayConfig } from './config.ts';
import { buildHttpIngest } from './http-ingest.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
import { createTokenVerifier } from '@sporbar/common/oidc-token';

export interface Gateway {
  readonly app: FastifyInstance;
  /** Served on GET /metrics. */
  readonly metrics: GatewayMetrics;
  /** Closes the HTTP side, then flushes and closes the transport. */
  close(): Promise<void>;
}

/**
 * The gateway as `main.ts` runs it, from its configuration and a transport: the token verifier of the
 * configured issuer, one SDK producer per producer id (its sourceSystem) over the one transport, and
 * `authorize` (default: the producer registry's allow-lists of the client's producer and of the gateway itself).
 */
export function buildGateway(
  config: GatewayConfig,
  transport: Transport,
  options: { logger?: FastifyBaseLogger; authorize?: Authorize; ready?: () => Promise<OpsCheck> } = {},
): Gateway {
  const metrics = createGatewayMetrics();
  const producers = new Map<string, Producer>();
  const producerFor = (producerId: string): Producer => {
    let p = producers.get(producerId);
    if (!p) {
      // Every event is authenticated to the ingest as the gateway (its producer key), declaring the
      // client's producer id as its sourceSystem: the registry lists those ids as the gateway's sourceSystems.
      p = createProducer({ transport, sealPublicKey: config.sealPublicKey, routingSecret: config.routingSecret, sourceSystem: producerId, producerKey: config.producerKey });
      producers.set(producerId, p);
    }
    return p;
  };
  const app = buildHttpIngest({
    producerFor,
    verifyToken: createTokenVerifier({ issuer: config.issuer, audience: config.audience, maxLifetimeSeconds: config.tokenMaxLifetimeSeconds, clockSkewSeconds: config.clockSkewSeconds }),
    producerOf: producerOfClient(config.clients),
    authorize: options.authorize ?? authorizeByRegistry(config.producers, config.producerKey.producerId),
    rateLimit: config.rateLimit,
    metrics,
    ...(options.ready ? { ready: options.ready } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return {
    app,
    metrics,
    close: async () => {
      await app.close();
      await transport.flush?.();
      await transport.close?.();
    },
  };
}
