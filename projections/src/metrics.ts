import type { Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { OpsCheck } from '@sporbar/common/health';
import { serveOps } from './ops-server.ts';
import type { QuarantineEntry } from './runner.ts';
import type { SqlDatabase } from './sql.ts';

export interface ProjectorMetricsOptions {
  /** Where `projection_quarantine` lives (the read models' database). */
  readonly db: SqlDatabase;
  /** The runner now projecting: its checkpoint name (`read-models:<prefix>`) and position. A rebuild switch changes it. */
  readonly runner: () => { readonly name: string; readonly position: bigint } | undefined;
  /** The event store's head position (its last event), for the checkpoint lag; without it the lag is not exported. */
  readonly headPosition?: () => Promise<bigint>;
}

/**
 * The projector's Prometheus metrics, on a registry of their own so tests can read them:
 * quarantined events as they happen (a counter, by projection and reason code) and what is still
 * quarantined in the table (a gauge read at each scrape, so it survives restarts and drops when
 * `sporbar-projections requeue` re-applies an event): the number an alert watches.
 */
export function createProjectorMetrics(options: ProjectorMetricsOptions) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sporbar_projector_' });
  const quarantined = new Counter({
    name: 'sporbar_projector_events_quarantined_total',
    help: 'Events a projection could not apply since this process started, quarantined (projection_quarantine) while the log moved on; by projection (* = undecodable) and reason code.',
    labelNames: ['projection', 'reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'sporbar_projector_quarantine_open',
    help: 'Quarantined (event, projection) pairs not yet re-applied, by projection (* = undecodable): alert when above 0; GET /v1/quarantine shows them, `sporbar-projections requeue` re-applies them.',
    labelNames: ['projection'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const runner = options.runner();
      if (!runner) return;
      const { rows } = await options.db.query<{ projection: string; n: number }>(
        'SELECT projection, count(*)::int AS n FROM projection_quarantine WHERE runner = $1 AND resolved_at IS NULL GROUP BY projection',
        [runner.name],
      );
      for (const r of rows) this.set({ projection: r.projection }, Number(r.n));
    },
  });
  new Gauge({
    name: 'sporbar_projector_position',
    help: 'The global log position the read models reflect (their checkpoint).',
    registers: [registry],
    collect() {
      const runner = options.runner();
      if (runner) this.set(Number(runner.position));
    },
  });
  const { headPosition } = options;
  if (headPosition) {
    new Gauge({
      name: 'sporbar_projector_checkpoint_lag',
      help: "Events between the event store's head position and the read models' checkpoint (0 = caught up): alert when it keeps growing.",
      registers: [registry],
      async collect() {
        const runner = options.runner();
        if (!runner) return;
        const head = await headPosition();
        this.set(Math.max(0, Number(head - runner.position)));
      },
    });
  }
  return {
    registry,
    /** The runner's `onQuarantine`: counts the entry (codes only, never content). */
    onQuarantine(entry: QuarantineEntry): void {
      quarantined.inc({ projection: entry.projection, reason: entry.reasonCode });
    },
  };
}

export type ProjectorMetrics = ReturnType<typeof createProjectorMetrics>;

/** `/metrics` (Prometheus text), `/health` (200 while `healthy()`, else 503) and `/ready` on host:port; resolves once listening. */
export async function serveProjectorMetrics(
  metrics: ProjectorMetrics,
  options: { port: number; host?: string; healthy: () => boolean; ready?: () => Promise<OpsCheck> },
): Promise<Server> {
  return serveOps({
    registry: metrics.registry,
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    health: () => ({ ok: options.healthy() }),
    ...(options.ready ? { ready: options.ready } : {}),
  });
}
