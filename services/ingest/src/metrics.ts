import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The ingest's Prometheus metrics, on a registry of their own so tests can read them. */
export function createIngestMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sporbar_ingest_' });
  return {
    registry,
    events: new Counter({
      name: 'sporbar_ingest_events_total',
      help: 'Messages handled, by result: appended, duplicate (already stored), dead_lettered.',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'sporbar_ingest_dead_letters_total',
      help: 'Messages sent to the dead-letter topic, by reason code.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    appendSeconds: new Histogram({
      name: 'sporbar_ingest_append_seconds',
      help: 'Time to make one consumed batch durable in the event store.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'sporbar_ingest_consumer_lag',
      help: 'Messages between the last handled offset and the high watermark, per partition.',
      labelNames: ['topic', 'partition'] as const,
      registers: [registry],
    }),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
