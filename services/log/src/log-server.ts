import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { subjectMapKeys } from '@sporbar/auditor/map';
import { createCheckpointer, createLogService, loadVerifyingKey, type CheckpointSigner, type CheckpointView, type Checkpointer, type LogService } from '@sporbar/auditor';
import { createEventStore, type EventStore } from '@sporbar/event-store';
import { createCodec } from '@sporbar/schemas';
import type { LogServiceConfig } from './config.ts';
import { createSignerLease, signerLockKey, type SignerLease } from './leader.ts';
import { createLogMetrics, type LogMetrics } from './metrics.ts';
import { logRoutes, type InclusionProofsLike, type LogServiceLike } from './routes.ts';
import { openCosignatureStore, type CosignatureStore } from './cosignatures.ts';
import { createWitnessPublisher, createWitnessSubmitter, type PublishedCheckpoint, type WitnessPublisher, type WitnessState, type WitnessSubmitter } from './witnessing.ts';
import { createCommandSigner } from './signer.ts';
import { tileRoutes } from './tiles.ts';

export interface LogServer {
  /** `http://host:port` it listens on. */
  readonly address: string;
  readonly log: LogService;
  readonly lease: SignerLease;
  readonly metrics: LogMetrics;
  /**
   * The checkpoint `/v1/log/checkpoint` serves: with a witness policy, the newest signed one that meets
   * the quorum, its note carrying the witnesses' cosignature lines after the log's signature, with the
   * policy's verdict in `witnessed` (if none meets it: the newest signed, `witnessed.met = false`);
   * without a policy, the latest signed checkpoint. Undefined before the first.
   */
  publishedCheckpoint(): PublishedCheckpoint | CheckpointView | undefined;
  /** The witnesses as this instance sees them (undefined without a policy): see GET /health/witnesses. */
  witnessStatus(): WitnessHealth | undefined;
  /** Signs a last checkpoint if this instance is the signer and any event is uncovered, then stops everything. */
  close(): Promise<void>;
}

export interface WitnessHealth {
  readonly quorum: string;
  readonly signer: boolean;
  readonly published: { readonly treeSize: number; readonly met: boolean } | null;
  readonly latest: { readonly treeSize: number; readonly met: boolean; readonly waitingSeconds: number } | null;
  /** The submitter's view, on the signer instance (empty on a standby). */
  readonly witnesses: readonly WitnessState[];
}

/** The signer of the configuration: the key in process, or the command (the private key elsewhere). */
export function signerOf(config: Pick<LogServiceConfig, 'signer' | 'publicKey'>): CheckpointSigner {
  return config.signer.kind === 'key' ? config.signer.key : createCommandSigner({ command: config.signer.command, publicKey: loadVerifyingKey(config.publicKey), timeoutMs: config.signer.timeoutMs });
}

/**
 * The production log service: follows the store into an in-memory Merkle tree (the auditor's
 * `createLogService`), serves `/v1/log/*`, and — while it holds the signer lock — runs the auditor's
 * checkpointer (every `intervalMs` when anything is uncovered, every `everyEvents` events, and once
 * more at close). Standby instances serve the same reads and take over when the signer's session ends.
 */
export async function startLogServer(config: LogServiceConfig, logger: Logger, signer: CheckpointSigner = signerOf(config)): Promise<LogServer> {
  const codec = createCodec();
  const store: EventStore = await createEventStore(config.store);
  const mapKeys = config.subjectMap ? subjectMapKeys(config.subjectMap.key) : undefined;
  const log = createLogService({
    store,
    codec,
    publicKey: config.publicKey,
    origin: config.origin,
    ...(mapKeys ? { subjectMap: { keys: mapKeys } } : {}),
    onError: (err) => logger.error({ err: (err as Error).message }, 'log service: alert'),
  });
  await log.start();

  // Witnessing (with a policy): cosignatures in the lock database, published by every instance, gathered by the signer.
  const policy = config.witnessPolicy?.policy;
  let cosignatures: CosignatureStore | undefined;
  let publisher: WitnessPublisher | undefined;
  let submitter: WitnessSubmitter | undefined;
  if (policy) {
    cosignatures = await openCosignatureStore(config.lockDatabaseUrl);
    publisher = createWitnessPublisher({ policy, origin: config.origin, store: cosignatures, log, logger });
    await publisher.start();
    submitter = createWitnessSubmitter({
      policy,
      origin: config.origin,
      store: cosignatures,
      log,
      logger,
      timeoutMs: config.witnessTimeoutMs,
      maxBackoffMs: config.witnessRetryMaxMs,
      onResult: (witness, result) => metrics.witnessSubmissions.inc({ witness, result }),
      onCosigned: () => void publisher?.refresh(),
    });
  }
  const published = (): PublishedCheckpoint | CheckpointView | undefined => (publisher ? publisher.published() : log.latestCheckpoint());

  let checkpointer: Checkpointer | undefined;
  /** The checkpointer has read the whole log (its start returned): the signer-tree-size metric is meaningful. */
  let checkpointerStarted = false;
  // Leadership changes run one after another: start and stop of the checkpointer never interleave.
  let transitions: Promise<void> = Promise.resolve();
  const transition = (step: () => Promise<void>) => {
    transitions = transitions.then(step).catch((err) => logger.error({ err }, 'signer transition failed'));
    return transitions;
  };

  // Created before the metrics and the fenced signer its callbacks use; they run only after lease.start() below.
  const lease: SignerLease = createSignerLease({
    connectionString: config.lockDatabaseUrl,
    lockKey: signerLockKey(config.origin),
    retryMs: config.leaderRetryMs,
    onError: (err) => logger.warn({ err: (err as Error).message }, 'signer lock: connection problem'),
    onAcquired: () =>
      void transition(async () => {
        logger.info({ origin: config.origin }, 'this instance is the signer');
        const c = createCheckpointer({
          store,
          codec,
          signer: fenced,
          origin: config.origin,
          everyEvents: config.everyEvents,
          everyMs: config.intervalMs,
          // One map per process: the checkpointer commits the map this instance's log service keeps (and checks).
          ...(mapKeys && config.subjectMap ? { subjectMap: { shared: () => log.subjectMapFollower, everyMs: config.subjectMap.everyMs, everyEvents: config.subjectMap.everyEvents, heartbeatMs: config.subjectMap.heartbeatMs } } : {}),
          onMapCommitment: ({ treeSize }) => {
            metrics.mapCommitments.inc();
            logger.info({ treeSize }, 'subject map committed');
          },
          onError: (err) => {
            metrics.signingFailures.inc();
            logger.error({ err: (err as Error).message }, 'checkpoint signing failed');
          },
          onCheckpoint: ({ treeSize, rootHash, eventId, text }) => {
            metrics.checkpointsSigned.inc();
            logger.info({ treeSize, eventId }, 'checkpoint signed');
            // Returns at once: each witness has its own loop; the checkpointer never waits on one.
            submitter?.offer({ treeSize, rootHash, text });
          },
        });
        checkpointer = c;
        checkpointerStarted = false;
        if (submitter) {
          await submitter.start().catch((err) => logger.warn({ err: (err as Error).message }, 'could not read the stored cosignatures'));
          // A checkpoint signed before this instance took over may still lack its cosignatures.
          const last = log.latestCheckpoint();
          if (last) submitter.offer({ treeSize: last.treeSize, rootHash: Buffer.from(last.rootHash, 'base64'), text: last.checkpoint });
        }
        await c.start();
        checkpointerStarted = true;
      }),
    onLost: (reason) =>
      void transition(async () => {
        logger.warn({ reason }, 'no longer the signer');
        const c = checkpointer;
        checkpointer = undefined;
        await c?.stop();
      }),
  });
  const metrics = createLogMetrics({
    treeSize: () => log.treeSize,
    latestCheckpoint: () => log.latestCheckpoint(),
    uncovered: () => log.uncovered,
    isSigner: () => lease.isLeader,
    signerTreeSize: () => (checkpointerStarted ? checkpointer?.treeSize : undefined),
    ...(policy
      ? {
          witnessing: () => {
            const h = witnessHealth()!;
            return { witnesses: h.witnesses, publishedSize: h.published?.treeSize, unwitnessedSeconds: h.latest ? h.latest.waitingSeconds : undefined };
          },
        }
      : {}),
  });
  const witnessHealth = (): WitnessHealth | undefined => {
    if (!publisher || !policy) return undefined;
    const p = publisher.published();
    const l = publisher.latest();
    return {
      quorum: l?.witnessed.quorum ?? policy.quorum,
      signer: lease.isLeader,
      published: p ? { treeSize: p.treeSize, met: p.witnessed.met } : null,
      latest: l ? { treeSize: l.treeSize, met: l.witnessed.met, waitingSeconds: l.witnessed.met ? 0 : Math.max(0, (Date.now() - Date.parse(l.occurredAt)) / 1000) } : null,
      witnesses: lease.isLeader && submitter ? submitter.status() : [],
    };
  };
  // Fenced: the lock is checked on its own session right before each signature.
  const fenced: CheckpointSigner = {
    keyId: signer.keyId,
    publicKeyRaw: signer.publicKeyRaw,
    sign: async (message) => {
      await lease.assertHeld();
      return signer.sign(message);
    },
  };
  lease.start();

  const app: FastifyInstance = Fastify({ logger: false });
  await app.register(logRoutes, { log: publisher ? servedLog(log, publisher) : log, ...(config.witnessPolicy ? { policy: config.witnessPolicy.text } : {}) });
  // /checkpoint serves what /v1/log/checkpoint serves: the published (cosigned) checkpoint; the tiles of every signed one.
  await app.register(tileRoutes, { log: { latestCheckpoint: () => (publisher ? publisher.published() : log.latestCheckpoint()), tile: (ref) => log.tile(ref) } });
  app.get('/health', async () => ({ status: 'ok' }));
  // Witnessing in detail, independent of /ready (a witness down never makes the log unready).
  app.get('/health/witnesses', async (_request, reply) => {
    const h = witnessHealth();
    if (!h) return reply.status(404).send({ code: 'SPB_ERR_NOT_FOUND', message: 'no witness policy (SPORBAR_WITNESS_POLICY_FILE)' });
    return h;
  });
  app.get('/ready', async (_request, reply) => {
    let head: bigint;
    try {
      // The store retries a lost connection for seconds; a readiness probe wants an answer sooner.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the event store did not answer within 2 s')), 2000);
      });
      head = await Promise.race([store.headPosition(), late]).finally(() => clearTimeout(timer));
    } catch (err) {
      return reply.status(503).send({ status: 'unavailable', store: 'unreachable', reason: (err as Error).message });
    }
    const caughtUp = log.position >= head;
    const body = { status: caughtUp ? 'ready' : 'catching up', store: 'ok', position: log.position.toString(), head: head.toString(), treeSize: log.treeSize, signer: lease.isLeader };
    return reply.status(caughtUp ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  await app.listen({ host: config.host, port: config.port });
  const bound = app.server.address();
  const address = typeof bound === 'object' && bound ? `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : String(bound);

  return {
    address,
    log,
    lease,
    metrics,
    publishedCheckpoint: published,
    witnessStatus: witnessHealth,
    async close() {
      await transition(async () => {
        const c = checkpointer;
        checkpointer = undefined;
        if (c && lease.isLeader) {
          try {
            // Cover what was stored up to now: let the checkpointer's subscription reach the head first (at most 5 s).
            if (store.contiguousPositions) {
              const head = Number(await store.headPosition());
              const until = Date.now() + 5000;
              while (c.treeSize < head && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
            }
            const size = await c.checkpointNow();
            logger.info({ treeSize: size ?? null }, size === undefined ? 'nothing uncovered at shutdown' : 'final checkpoint signed at shutdown');
          } catch (err) {
            metrics.signingFailures.inc();
            logger.error({ err: (err as Error).message }, 'final checkpoint failed');
          }
        }
        await c?.stop();
      });
      await lease.stop();
      await transitions;
      await submitter?.stop();
      await publisher?.stop();
      await cosignatures?.close();
      await app.close();
      await log.stop();
      await store.close();
    },
  };
}

/**
 * The log service as `/v1/log/*` serves it under a witness policy: the published checkpoint stands in
 * for the latest one, so `/v1/log/checkpoint`, and inclusion (and consistency) proofs asked for
 * without a tree size, are about the newest checkpoint that meets the quorum. Explicit sizes pass through.
 */
function servedLog(log: LogService, publisher: WitnessPublisher): LogServiceLike {
  const sizeOr = (treeSize: number | undefined) => treeSize ?? publisher.published()?.treeSize;
  return {
    publicKey: () => log.publicKey(),
    latestCheckpoint: () => publisher.published(),
    inclusionProof: (eventId, treeSize) => log.inclusionProof(eventId, sizeOr(treeSize)),
    async inclusionProofs(eventIds, treeSize): Promise<InclusionProofsLike> {
      const published = publisher.published();
      const r = await log.inclusionProofs(eventIds, treeSize ?? published?.treeSize);
      return { ...r, checkpoint: published ?? null };
    },
    consistencyProof: (from, to) => log.consistencyProof(from, to),
    // The map's own commitment is proven against whichever checkpoint the caller holds (the access API: the published one).
    subjectMapProofs: (indexes) => log.subjectMapProofs(indexes),
  };
}
