import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { isSporbarError, type ProcessingRegister } from '@sporbar/schemas';
import type { Sql } from '@sporbar/projections';
import { subjectDisclosuresRoutes } from './routes/subject-disclosures.ts';

export interface AppOptions {
  readonly db: Sql;
  readonly register: ProcessingRegister;
  readonly logger?: FastifyServerOptions['logger'];
}

/** The access API: every feature a plugin; answers and errors share the SPB_ERR_* registry. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, ajv: { customOptions: { allErrors: false } } });

  app.setErrorHandler((error, request, reply) => {
    if (isSporbarError(error)) return reply.status(error.statusCode).send({ code: error.code, message: error.message });
    const e = error as { validation?: unknown; statusCode?: number; message: string };
    if (e.validation) return reply.status(400).send({ code: 'SPB_ERR_BAD_REQUEST', message: e.message });
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ code: 'SPB_ERR_BAD_REQUEST', message: e.message });
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ code: 'SPB_ERR_INTERNAL', message: 'internal error' });
  });

  app.get('/health', async () => ({ status: 'ok' }));
  await app.register(subjectDisclosuresRoutes, { db: options.db, register: options.register });
  return app;
}
