import type { Logger } from 'pino';
import { isSporbarError } from '@sporbar/common/errors';
import { checkCheckpointPolicy, type TlogPolicy, type WitnessCheck } from '@sporbar/auditor/note';
import type { CheckpointView, LogService } from '@sporbar/auditor';
import { submitToWitness, type SubmitOptions, type WitnessSubmission } from '@sporbar/witness/client';
import type { CosignatureRow, CosignatureStore } from './cosignatures.ts';
import type { WitnessedLike } from './routes.ts';

/**
 * Witnessing (C2SP tlog-witness, the log's side) in two parts:
 *
 * - the **submitter**, on the signer instance only: each checkpoint the checkpointer signs is offered
 *   to every policy witness that has a URL; each witness has its own loop that sends only the newest
 *   offered checkpoint (a newer one supersedes one still pending), with a consistency proof from the
 *   size the witness last cosigned (learnt from a 409's size when it is not the one believed), retries
 *   with backoff while the witness is unavailable, and stores the cosignature lines in PostgreSQL.
 *   `offer` returns at once: the checkpointer (and the ingest, another process) never wait on a witness.
 * - the **publisher**, on every instance: the checkpoint `/v1/log/checkpoint` serves is the newest
 *   signed checkpoint whose note, with the stored cosignatures appended, meets the policy's quorum
 *   (`checkCheckpointPolicy`, recomputed, never trusted from the table); if none does, the newest
 *   signed one, `witnessed.met = false`.
 */

export interface OfferedCheckpoint {
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  /** The log-signed checkpoint note. */
  readonly text: string;
}

export type SubmissionResult = 'cosigned' | 'conflict' | 'inconsistent' | 'refused' | 'unavailable';

export interface WitnessState {
  readonly name: string;
  readonly url: string;
  /** The size the witness last cosigned, as far as this instance knows (undefined: not asked yet). */
  readonly cosignedSize: number | undefined;
  /** The checkpoint waiting to be sent (undefined: nothing to send). */
  readonly pendingSize: number | undefined;
  /** ok: its last answer was a cosignature (or nothing was sent yet); unavailable: retrying; refused: it answered 4xx (422: inconsistent). */
  readonly status: 'ok' | 'unavailable' | 'refused';
  /** ISO time the current outage or refusal began. */
  readonly since?: string;
  readonly lastError?: string;
}

export interface SubmitterOptions {
  readonly policy: TlogPolicy;
  readonly origin: string;
  readonly store: CosignatureStore;
  /** The log service whose tree gives the consistency proofs. */
  readonly log: Pick<LogService, 'treeSize' | 'consistencyProof'>;
  readonly logger: Logger;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
  /** First retry after this (default 1 s), doubling up to `maxBackoffMs` (default 60 s). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Each answer, for the metrics. */
  readonly onResult?: (witness: string, result: SubmissionResult) => void;
  /** A cosignature was stored. */
  readonly onCosigned?: (witness: string, treeSize: number) => void;
  /** The C2SP client (tests may not replace it: it is the real one by default and only here for the bench's symmetry). */
  readonly submit?: (url: string, submission: WitnessSubmission, options: SubmitOptions) => Promise<string[]>;
}

export interface WitnessSubmitter {
  /** Reads what the store knows each witness cosigned. */
  start(): Promise<void>;
  /** Hands a freshly signed checkpoint to every witness's loop; returns at once. */
  offer(checkpoint: OfferedCheckpoint): void;
  status(): WitnessState[];
  /** Stops the loops (an in-flight request is let finish, at most its timeout). */
  stop(): Promise<void>;
}

interface Slot {
  readonly name: string;
  readonly url: string;
  readonly vkey: string;
  cosignedSize: number | undefined;
  pending: OfferedCheckpoint | undefined;
  running: Promise<void> | undefined;
  status: WitnessState['status'];
  since: number | undefined;
  lastError: string | undefined;
  wake: (() => void) | undefined;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export function createWitnessSubmitter(options: SubmitterOptions): WitnessSubmitter {
  const { policy, origin, store, log, logger } = options;
  const submit = options.submit ?? ((url, s, o) => submitToWitness(url, s, o));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const minBackoff = options.minBackoffMs ?? 1000;
  const maxBackoff = Math.max(minBackoff, options.maxBackoffMs ?? 60_000);
  const slots: Slot[] = policy.witnesses
    .filter((w) => w.url !== undefined)
    .map((w) => ({ name: w.name, url: w.url!, vkey: w.vkey, cosignedSize: undefined, pending: undefined, running: undefined, status: 'ok', since: undefined, lastError: undefined, wake: undefined }));
  let stopped = false;

  const sleep = (slot: Slot, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        slot.wake = undefined;
        resolve();
      }
      slot.wake = done;
    });

  /** Waits (at most 10 s) until the log service's tree holds `size` leaves: the checkpointer may be ahead of it. */
  const treeReaches = async (size: number) => {
    const until = Date.now() + 10_000;
    while (log.treeSize < size && !stopped && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return log.treeSize >= size;
  };

  const recovered = (slot: Slot) => {
    if (slot.status !== 'ok' && slot.since !== undefined) {
      logger.warn({ witness: slot.name, afterSeconds: Math.round((Date.now() - slot.since) / 1000), cosignedSize: slot.cosignedSize }, `witness ${slot.name} cosigns again`);
    }
    slot.status = 'ok';
    slot.since = undefined;
    slot.lastError = undefined;
  };

  async function run(slot: Slot): Promise<void> {
    let backoff = minBackoff;
    let conflicts = 0;
    while (!stopped && slot.pending) {
      const cp = slot.pending;
      const old = slot.cosignedSize ?? 0;
      if (old > cp.treeSize) {
        // The witness already cosigned a larger tree (a lost answer, or an earlier signer): wait for a newer checkpoint.
        if (slot.pending === cp) slot.pending = undefined;
        break;
      }
      let proof: Buffer[] = [];
      if (old > 0 && old < cp.treeSize) {
        if (!(await treeReaches(cp.treeSize))) {
          slot.lastError = `this instance's tree has not reached tree size ${cp.treeSize}`;
          await sleep(slot, backoff);
          continue;
        }
        const p = log.consistencyProof(old, cp.treeSize);
        if (p.toRoot !== b64(cp.rootHash)) {
          logger.error({ witness: slot.name, treeSize: cp.treeSize }, 'alert: the signed checkpoint does not match this instance\'s tree: not submitted');
          if (slot.pending === cp) slot.pending = undefined;
          break;
        }
        proof = p.proof.map((h) => Buffer.from(h, 'base64'));
      }
      let lines: string[];
      try {
        lines = await submit(slot.url, { oldSize: old, proof, checkpoint: cp.text }, { witnessKey: slot.vkey, timeoutMs });
      } catch (err) {
        const message = (err as Error).message;
        if (isSporbarError(err, 'SPB_ERR_WITNESS_CONFLICT') && conflicts < 3) {
          // Resend from the size the witness says it cosigned last.
          conflicts++;
          options.onResult?.(slot.name, 'conflict');
          slot.cosignedSize = Number(err.details['witnessSize']);
          continue;
        }
        if (isSporbarError(err, 'SPB_ERR_WITNESS_INCONSISTENT') || isSporbarError(err, 'SPB_ERR_WITNESS_BAD_SIGNATURE') || isSporbarError(err, 'SPB_ERR_WITNESS_UNKNOWN_LOG') || isSporbarError(err, 'SPB_ERR_BAD_REQUEST')) {
          // Not retried: this checkpoint will never be cosigned by this witness. The next one is tried afresh.
          const inconsistent = isSporbarError(err, 'SPB_ERR_WITNESS_INCONSISTENT');
          options.onResult?.(slot.name, inconsistent ? 'inconsistent' : 'refused');
          if (slot.status !== 'refused') slot.since = Date.now();
          slot.status = 'refused';
          slot.lastError = message;
          logger.error(
            { witness: slot.name, treeSize: cp.treeSize, oldSize: old, code: (err as { code: string }).code, reason: message },
            inconsistent
              ? `alert: witness ${slot.name} refused the checkpoint of tree size ${cp.treeSize} as inconsistent with what it cosigned before: this log has forked or its history was rewritten`
              : `alert: witness ${slot.name} refused the checkpoint of tree size ${cp.treeSize}: ${message}`,
          );
          if (slot.pending === cp) slot.pending = undefined;
          break;
        }
        // Unavailable (or a conflict that keeps moving): retry with backoff; a newer checkpoint may replace this one meanwhile.
        options.onResult?.(slot.name, 'unavailable');
        if (slot.status !== 'unavailable') {
          slot.status = 'unavailable';
          slot.since = Date.now();
          logger.error(
            { witness: slot.name, url: slot.url, treeSize: cp.treeSize, reason: message },
            `alert: witness ${slot.name} unavailable since ${new Date(slot.since).toISOString()}: checkpoints wait for its cosignature, the log goes on`,
          );
        }
        slot.lastError = message;
        conflicts = 0;
        await sleep(slot, backoff);
        backoff = Math.min(maxBackoff, backoff * 2);
        continue;
      }
      conflicts = 0;
      backoff = minBackoff;
      options.onResult?.(slot.name, 'cosigned');
      const row: CosignatureRow = { treeSize: cp.treeSize, rootHash: Buffer.from(cp.rootHash), witness: slot.name, lines };
      try {
        await store.put(origin, row);
      } catch (err) {
        // The witness has cosigned (its state moved); the next checkpoint carries a newer cosignature.
        logger.error({ witness: slot.name, treeSize: cp.treeSize, err: (err as Error).message }, 'could not store a cosignature');
      }
      slot.cosignedSize = cp.treeSize;
      recovered(slot);
      options.onCosigned?.(slot.name, cp.treeSize);
      if (slot.pending === cp) slot.pending = undefined;
    }
  }

  const kick = (slot: Slot) => {
    if (slot.running || stopped) return;
    slot.running = run(slot)
      .catch((err) => logger.error({ witness: slot.name, err: (err as Error).message }, 'witness submission loop failed'))
      .finally(() => {
        slot.running = undefined;
        if (slot.pending && !stopped) kick(slot);
      });
  };

  return {
    async start() {
      stopped = false;
      const known = await store.cosignedSizes(origin);
      for (const s of slots) if (s.cosignedSize === undefined && known.has(s.name)) s.cosignedSize = known.get(s.name);
    },
    offer(checkpoint) {
      for (const s of slots) {
        if (s.pending && s.pending.treeSize >= checkpoint.treeSize) continue;
        s.pending = checkpoint;
        kick(s);
      }
    },
    status: () =>
      slots.map((s) => ({
        name: s.name,
        url: s.url,
        cosignedSize: s.cosignedSize,
        pendingSize: s.pending?.treeSize,
        status: s.status,
        ...(s.since !== undefined ? { since: new Date(s.since).toISOString() } : {}),
        ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
      })),
    async stop() {
      stopped = true;
      for (const s of slots) s.wake?.();
      await Promise.all(slots.map((s) => s.running));
    },
  };
}

/** A checkpoint as published: the log's view, its note with the witnesses' cosignatures, the policy's verdict. */
export type PublishedCheckpoint = CheckpointView & { readonly witnessed: WitnessedLike };

export interface PublisherOptions {
  readonly policy: TlogPolicy;
  readonly origin: string;
  readonly store: CosignatureStore;
  readonly log: Pick<LogService, 'latestCheckpoint' | 'checkpointAt'>;
  readonly logger: Logger;
  /** How often the stored cosignatures are re-read (default 1 s): what standbys see of the signer's work. */
  readonly refreshMs?: number;
  /** How many of the largest cosigned sizes are considered (default 64), besides each witness's largest. */
  readonly window?: number;
}

export interface WitnessPublisher {
  start(): Promise<void>;
  /** Re-reads the stored cosignatures now (the signer calls it after storing one). */
  refresh(): Promise<void>;
  /** The newest signed checkpoint that meets the quorum; else the newest signed, `witnessed.met = false`; undefined before the first. */
  published(): PublishedCheckpoint | undefined;
  /** The newest signed checkpoint's own verdict (what it has gathered so far). */
  latest(): PublishedCheckpoint | undefined;
  stop(): Promise<void>;
}

const verdictOf = (check: { ok: boolean; quorum: string; witnesses: readonly WitnessCheck[] }): WitnessedLike => ({
  quorum: check.quorum,
  met: check.ok,
  witnesses: check.witnesses.map((w) => ({ name: w.name, status: w.status, ...(w.time ? { time: w.time } : {}), ...(w.reason ? { reason: w.reason } : {}) })),
});

export function createWitnessPublisher(options: PublisherOptions): WitnessPublisher {
  const { policy, origin, store, log, logger } = options;
  const window = options.window ?? 64;
  let rows: CosignatureRow[] = [];
  let version = 0;
  let memo: { key: string; published: PublishedCheckpoint | undefined; latest: PublishedCheckpoint | undefined } | undefined;
  let timer: NodeJS.Timeout | undefined;

  const withCosignatures = (view: CheckpointView): PublishedCheckpoint => {
    const lines = new Set<string>();
    for (const r of rows) if (r.treeSize === view.treeSize && b64(r.rootHash) === view.rootHash) for (const l of r.lines) lines.add(l);
    const note = `${view.checkpoint}${[...lines].map((l) => `${l}\n`).join('')}`;
    return { ...view, checkpoint: note, witnessed: verdictOf(checkCheckpointPolicy(note, policy, { origin })) };
  };

  const compute = () => {
    const latestView = log.latestCheckpoint();
    const key = `${version}:${latestView?.treeSize ?? -1}:${latestView?.eventId ?? ''}`;
    if (memo?.key === key) return memo;
    let published: PublishedCheckpoint | undefined;
    let latest: PublishedCheckpoint | undefined;
    if (latestView) {
      latest = withCosignatures(latestView);
      if (latest.witnessed.met) published = latest;
      else {
        const sizes = [...new Set(rows.map((r) => r.treeSize))].filter((s) => s < latestView.treeSize).sort((a, b) => b - a);
        for (const size of sizes) {
          const view = log.checkpointAt(size);
          if (!view) continue;
          const candidate = withCosignatures(view);
          if (candidate.witnessed.met) {
            published = candidate;
            break;
          }
        }
        published ??= latest;
      }
    }
    memo = { key, published, latest };
    return memo;
  };

  // One read at a time, in order: a refresh asked for after a cosignature was stored always sees it.
  let chain: Promise<void> = Promise.resolve();
  const refresh = (): Promise<void> => {
    chain = chain.then(() =>
      store.newest(origin, window).then(
        (r) => {
          rows = r;
          version++;
        },
        (err) => logger.warn({ err: (err as Error).message }, 'could not read the stored cosignatures'),
      ),
    );
    return chain;
  };

  return {
    async start() {
      await refresh();
      const tick = () => {
        void refresh().finally(() => {
          if (timer) timer = setTimeout(tick, options.refreshMs ?? 1000);
        });
      };
      timer = setTimeout(tick, options.refreshMs ?? 1000);
    },
    refresh,
    published: () => compute().published,
    latest: () => compute().latest,
    async stop() {
      const t = timer;
      timer = undefined;
      clearTimeout(t);
      await chain;
    },
  };
}
