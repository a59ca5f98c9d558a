import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read when Prometheus scrapes. */
export interface LogMetricsSource {
  readonly treeSize: () => number;
  readonly latestCheckpoint: () => { treeSize: number; occurredAt: string } | undefined;
  readonly uncovered: () => number;
  readonly isSigner: () => boolean;
}

/** The log service's Prometheus metrics, on a registry of their own (with the process metrics). */
export function createLogMetrics(source: LogMetricsSource, now: () => number = Date.now) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'sporbar_log_tree_size',
    help: 'Leaves of the Merkle log this instance holds (every stored event, checkpoints included).',
    registers: [registry],
    collect() {
      this.set(source.treeSize());
    },
  });
  new Gauge({
    name: 'sporbar_log_checkpoint_size',
    help: 'Tree size of the latest signed checkpoint that verifies (0: none yet).',
    registers: [registry],
    collect() {
      this.set(source.latestCheckpoint()?.treeSize ?? 0);
    },
  });
  new Gauge({
    name: 'sporbar_log_checkpoint_age_seconds',
    help: 'Seconds since the latest signed checkpoint was signed (absent: none yet). Alert when it exceeds a few intervals.',
    registers: [registry],
    collect() {
      this.reset();
      const latest = source.latestCheckpoint();
      if (latest) this.set(Math.max(0, (now() - Date.parse(latest.occurredAt)) / 1000));
    },
  });
  new Gauge({
    name: 'sporbar_log_uncovered_events',
    help: 'Events (not checkpoints) that no signed checkpoint covers yet.',
    registers: [registry],
    collect() {
      this.set(source.uncovered());
    },
  });
  new Gauge({
    name: 'sporbar_log_signer',
    help: '1 when this instance holds the signer lock (exactly one instance per log should), else 0.',
    registers: [registry],
    collect() {
      this.set(source.isSigner() ? 1 : 0);
    },
  });
  const signingFailures = new Counter({ name: 'sporbar_log_signing_failures_total', help: 'Checkpoints this instance failed to sign or store (signer error, lock lost, store down).', registers: [registry] });
  const checkpointsSigned = new Counter({ name: 'sporbar_log_checkpoints_signed_total', help: 'Checkpoints this instance signed and stored.', registers: [registry] });
  return { registry, signingFailures, checkpointsSigned };
}

export type LogMetrics = ReturnType<typeof createLogMetrics>;
