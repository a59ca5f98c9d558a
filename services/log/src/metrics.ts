import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read when Prometheus scrapes. */
export interface LogMetricsSource {
  readonly treeSize: () => number;
  readonly latestCheckpoint: () => { treeSize: number; occurredAt: string } | undefined;
  readonly uncovered: () => number;
  readonly isSigner: () => boolean;
  /** Leaves the signer's checkpointer has read (undefined on a standby, or while it starts). */
  readonly signerTreeSize?: () => number | undefined;
  /** With a witness policy: the submitter's per-witness state (signer only) and the publication. */
  readonly witnessing?: () => {
    readonly witnesses: ReadonlyArray<{ readonly name: string; readonly cosignedSize: number | undefined; readonly status: 'ok' | 'unavailable' | 'refused' }>;
    /** Tree size of the checkpoint /v1/log/checkpoint publishes. */
    readonly publishedSize: number | undefined;
    /** Seconds the newest signed checkpoint has waited for the quorum (0: it meets it; undefined: none signed yet). */
    readonly unwitnessedSeconds: number | undefined;
  };
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
  const signerTreeSize = source.signerTreeSize;
  if (signerTreeSize) {
    new Gauge({
      name: 'sporbar_log_signer_tree_size',
      help: "Leaves the signer's checkpointer (and subject map) has read: behind sporbar_log_tree_size while it catches up after a start (absent on a standby).",
      registers: [registry],
      collect() {
        this.reset();
        const n = signerTreeSize();
        if (n !== undefined) this.set(n);
      },
    });
  }
  const witnessing = source.witnessing;
  if (witnessing) {
    new Gauge({
      name: 'sporbar_log_witness_cosigned_size',
      help: 'Tree size each witness last cosigned, as the signer instance knows it (absent on standbys and before the first answer).',
      labelNames: ['witness'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of witnessing().witnesses) if (w.cosignedSize !== undefined) this.set({ witness: w.name }, w.cosignedSize);
      },
    });
    new Gauge({
      name: 'sporbar_log_witness_up',
      help: "1 while the witness's last answer was a cosignature (or nothing was sent yet), 0 while it is unavailable or refuses (signer instance only).",
      labelNames: ['witness'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of witnessing().witnesses) this.set({ witness: w.name }, w.status === 'ok' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sporbar_log_witness_refusing',
      help: '1 while the witness refuses this log (its last answer was a 4xx; 422: inconsistent, the log forked): alert on any 1.',
      labelNames: ['witness'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of witnessing().witnesses) this.set({ witness: w.name }, w.status === 'refused' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sporbar_log_published_checkpoint_size',
      help: 'Tree size of the checkpoint /v1/log/checkpoint publishes: the newest that meets the witness quorum (else the newest signed).',
      registers: [registry],
      collect() {
        this.set(witnessing().publishedSize ?? 0);
      },
    });
    new Gauge({
      name: 'sporbar_log_unwitnessed_seconds',
      help: 'Seconds the newest signed checkpoint has waited for the witness quorum (0 when it meets it). Alert above a few checkpoint intervals.',
      registers: [registry],
      collect() {
        this.reset();
        const s = witnessing().unwitnessedSeconds;
        if (s !== undefined) this.set(s);
      },
    });
  }
  const witnessSubmissions = new Counter({
    name: 'sporbar_log_witness_submissions_total',
    help: 'Checkpoints sent to witnesses, by answer: cosigned, conflict (409, resent from its size), inconsistent (422: a fork), refused (other 4xx), unavailable (retried).',
    labelNames: ['witness', 'result'],
    registers: [registry],
  });
  const signingFailures = new Counter({ name: 'sporbar_log_signing_failures_total', help: 'Checkpoints this instance failed to sign or store (signer error, lock lost, store down).', registers: [registry] });
  const checkpointsSigned = new Counter({ name: 'sporbar_log_checkpoints_signed_total', help: 'Checkpoints this instance signed and stored.', registers: [registry] });
  const mapCommitments = new Counter({ name: 'sporbar_log_subject_map_commitments_total', help: 'Subject map roots this instance committed to the log (SubjectMapCommitted).', registers: [registry] });
  return { registry, signingFailures, checkpointsSigned, witnessSubmissions, mapCommitments };
}

export type LogMetrics = ReturnType<typeof createLogMetrics>;
