import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's Prometheus metrics (GET /metrics), on a registry of their own so tests can read them. */
export function createGatewayMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sporbar_gateway_' });
  return {
    registry,
    requests: new Histogram({
      name: 'sporbar_gateway_request_seconds',
      help: 'Requests by route and status, with their duration.',
      labelNames: ['route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
      registers: [registry],
    }),
    refusedRequests: new Counter({
      name: 'sporbar_gateway_requests_refused_total',
      help: 'POST /v1/events requests refused whole, by reason code (SPB_ERR_UNAUTHORIZED, SPB_ERR_PRODUCER_NOT_ALLOWED, SPB_ERR_SCHEMA_INVALID, SPB_ERR_RATE_LIMITED, SPB_ERR_SPOOL_FULL …).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    acceptedEvents: new Counter({
      name: 'sporbar_gateway_events_accepted_total',
      help: "Events accepted (acknowledged by Kafka or fsync'd in the spool), by event type.",
      labelNames: ['event_type'] as const,
      registers: [registry],
    }),
    refusedEvents: new Counter({
      name: 'sporbar_gateway_events_refused_total',
      help: 'Events of a parsed body not accepted, by reason code: every item of a body refused whole (400, 403), and each item the transport refused or that was not sent after it.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'sporbar_gateway_rate_limited_total',
      help: 'Requests refused 429 by the per-client rate limit, by OAuth2 client.',
      labelNames: ['client'] as const,
      registers: [registry],
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
