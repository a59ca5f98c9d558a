import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The witness's Prometheus metrics, on a registry of its own. Origins label only configured logs. */
export function createWitnessMetrics(origins: readonly string[]) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'sporbar_witness_add_checkpoint_total',
    help: 'add-checkpoint requests by log origin (empty: not a configured log) and HTTP status',
    labelNames: ['origin', 'status'] as const,
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'sporbar_witness_add_checkpoint_seconds',
    help: 'time to answer add-checkpoint',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const treeSize = new Gauge({
    name: 'sporbar_witness_tree_size',
    help: 'size of the last checkpoint the witness cosigned, per log origin',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  const refused = new Counter({
    name: 'sporbar_witness_inconsistent_total',
    help: 'validly signed checkpoints refused as inconsistent with what the witness saw (422): evidence kept in witness_evidence',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  for (const origin of origins) refused.labels({ origin }).inc(0);
  return { registry, requests, seconds, treeSize, refused };
}

export type WitnessMetrics = ReturnType<typeof createWitnessMetrics>;
