import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { checkAnswer, type OpsCheck } from '@sporbar/common/health';

export interface OpsServerOptions {
  readonly registry: Registry;
  /** Where to listen (METRICS_HOST, default 127.0.0.1; METRICS_PORT, 0 picks a free port). */
  readonly host?: string;
  readonly port: number;
  /** Liveness: the process's loops are alive (restart it when not). */
  readonly health: () => OpsCheck;
  /** Readiness: its dependencies answer (take it out of rotation when not). */
  readonly ready?: () => Promise<OpsCheck>;
}

/**
 * A worker's operations endpoint (the projector, the retention worker): `/metrics` (Prometheus text),
 * `/health` (200 while alive, else 503) and `/ready` (200 while every dependency answers, else 503,
 * naming each). Resolves once listening.
 */
export async function serveOps(options: OpsServerOptions): Promise<Server> {
  const { registry } = options;
  const send = (res: import('node:http').ServerResponse, a: { status: number; body: unknown }) =>
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics') {
      registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body))
        .catch(() => res.writeHead(503).end('metrics unavailable\n'));
    } else if (path === '/health') {
      send(res, checkAnswer(options.health(), 'ok'));
    } else if (path === '/ready') {
      const ready = options.ready ?? (async () => ({ ok: true }));
      ready()
        .then((check) => send(res, checkAnswer(check, 'ready')))
        .catch(() => send(res, checkAnswer({ ok: false }, 'ready')));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return server;
}

/** The port a server listens on (METRICS_PORT=0 picks one). */
export const listeningPort = (server: Server): number => {
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
};
