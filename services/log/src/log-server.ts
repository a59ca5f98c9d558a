import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createCheckpointer, createLogService, loadVerifyingKey, type CheckpointSigner, type Checkpointer, type LogService } from '@sporbar/auditor';
import { createEventStore, type EventStore } from '@sporbar/event-store';
import { createCodec } from '@sporbar/schemas';
import type { LogServiceConfig } from './config.ts';
import { createSignerLease, signerLockKey, type SignerLease } from './leader.ts';
import { createLogMetrics, type LogMetrics } from './metrics.ts';
import { logRoutes } from './routes.ts';
import { createCommandSigner } from './signer.ts';
import { tileRoutes } from './tiles.ts';

export interface LogServer {
  /** `http://host:port` it listens on. */
  readonly address: string;
  readonly log: LogService;
  readonly lease: SignerLease;
  readonly metrics: LogMetrics;
  /** Signs a last checkpoint if this instance is the signer and any event is uncovered, then stops everything. */
  close(): Promise<void>;
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
  const log = createLogService({ store, codec, publicKey: config.publicKey, origin: config.origin, onError: (err) => logger.error({ err }, 'log subscription failed') });
  await log.start();

  let checkpointer: Checkpointer | undefined;
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
          onError: (err) => {
            metrics.signingFailures.inc();
            logger.error({ err: (err as Error).message }, 'checkpoint signing failed');
          },
          onCheckpoint: ({ treeSize, eventId }) => {
            metrics.checkpointsSigned.inc();
            logger.info({ treeSize, eventId }, 'checkpoint signed');
          },
        });
        checkpointer = c;
        await c.start();
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
  });
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
  await app.register(logRoutes, { log, ...(config.witnessPolicy ? { policy: config.witnessPolicy.text } : {}) });
  await app.register(tileRoutes, { log });
  app.get('/health', async () => ({ status: 'ok' }));
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
      await app.close();
      await log.stop();
      await store.close();
    },
  };
}
