import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createWitnessMetrics } from './metrics.ts';
import { MAX_BODY_BYTES } from './request.ts';
import type { CheckpointStore } from './store.ts';
import type { Witness } from './witness.ts';

/**
 * The witness over HTTP (fastify). The submission and monitoring prefixes are both the root:
 *
 *   POST /add-checkpoint          c2sp.org/tlog-witness: 200 cosignature line(s), 400, 403, 404, 409 (text/x.tlog.size), 422
 *   GET  /<origin hash>/checkpoint  the last cosigned checkpoint of a log (its signatures and the witness's), or 404
 *   GET  /                        the witness's cosigner vkey (name+keyid+base64(0x04 ‖ key)), one line
 *   GET  /health  /ready  /metrics
 */
export interface ServerOptions {
  readonly witness: Witness;
  readonly store: CheckpointStore;
  readonly logger?: FastifyBaseLogger | false;
}

const TEXT = 'text/plain; charset=utf-8';

export function buildWitnessServer({ witness, store, logger = false }: ServerOptions): FastifyInstance {
  // Request logs carry method, URL and status only: the bodies are public checkpoints, but large.
  const app = Fastify({ ...(logger ? { loggerInstance: logger } : { logger: false }), bodyLimit: MAX_BODY_BYTES });
  const metrics = createWitnessMetrics(witness.origins);
  const known = new Set(witness.origins);

  // The body is bytes whatever the Content-Type says (the spec names none).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/add-checkpoint', async (req, reply) => {
    const stop = metrics.seconds.startTimer();
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const outcome = await witness.addCheckpoint(body);
    stop();
    const origin = outcome.origin !== undefined && known.has(outcome.origin) ? outcome.origin : '';
    metrics.requests.inc({ origin, status: String(outcome.status) });
    if (outcome.status === 200) {
      metrics.treeSize.set({ origin: outcome.origin }, outcome.size);
      return reply.code(200).type(TEXT).send(outcome.body);
    }
    if (outcome.status === 409) return reply.code(409).type('text/x.tlog.size').send(`${outcome.witnessSize}\n`);
    if (outcome.status === 422) {
      metrics.refused.inc({ origin });
      req.log.warn({ origin: outcome.origin, reason: outcome.reason }, 'refused a validly signed checkpoint inconsistent with what the witness saw');
    }
    return reply.code(outcome.status).type(TEXT).send(`${outcome.code}: ${outcome.reason}\n`);
  });

  app.get('/', async (_req, reply) => reply.type(TEXT).send(`${witness.cosigner.vkey}\n`));

  app.get<{ Params: { hash: string } }>('/:hash/checkpoint', async (req, reply) => {
    const stored = /^[0-9a-f]{64}$/.test(req.params.hash) ? await witness.latestCheckpoint(req.params.hash) : undefined;
    if (!stored) return reply.code(404).type(TEXT).send('SPB_ERR_NOT_FOUND: the witness never cosigned a checkpoint of that log\n');
    return reply.type(TEXT).header('cache-control', 'no-cache').send(stored.note);
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    try {
      await store.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', code: 'SPB_ERR_STORE_UNAVAILABLE' });
    }
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'add-checkpoint failed');
    const code = status === 500 ? 'SPB_ERR_INTERNAL' : 'SPB_ERR_BAD_REQUEST';
    return reply.code(status).type(TEXT).send(`${code}: ${status === 500 ? 'internal error' : err.message}\n`);
  });
  return app;
}
