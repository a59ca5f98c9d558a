import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The retention worker's Prometheus metrics, on a registry of their own so tests can read them.
 * `overdue` reads the read model at each scrape (what is still past its deadline and not done): the
 * number an alert watches; it drains as the worker's RetentionExpired events reach the read model.
 */
export function createRetentionMetrics(options: { overdue?: () => Promise<number> } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sporbar_retention_' });
  const { overdue } = options;
  if (overdue) {
    new Gauge({
      name: 'sporbar_retention_overdue',
      help: 'Retention rules past their deadline and not yet done, in the read model (GET /v1/retention/overdue): alert when it stays above 0.',
      registers: [registry],
      async collect() {
        // The last value stays when the database does not answer (/ready says so).
        this.set(await overdue().catch(() => Number.NaN));
      },
    });
  }
  return {
    registry,
    runs: new Counter({ name: 'sporbar_retention_runs_total', help: 'Runs of the retention rules by the active instance, by result (ok, failed).', labelNames: ['result'] as const, registers: [registry] }),
    failures: new Counter({ name: 'sporbar_retention_failures_total', help: 'Runs that failed (the database or the producer refused); the next run tries again.', registers: [registry] }),
    expired: new Counter({
      name: 'sporbar_retention_expired_total',
      help: 'RetentionExpired events recorded (accepted by Kafka or the durable spool), by retention rule.',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    lastSuccess: new Gauge({ name: 'sporbar_retention_last_success_timestamp_seconds', help: 'When the last successful run ended (Unix seconds; 0 = none yet).', registers: [registry] }),
    active: new Gauge({ name: 'sporbar_retention_active', help: '1 while this instance holds the lock and runs the rules, 0 while it stands by.', registers: [registry] }),
  };
}

export type RetentionMetrics = ReturnType<typeof createRetentionMetrics>;
