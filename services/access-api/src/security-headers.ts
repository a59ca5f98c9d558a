import Fastify from 'fastify';
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';

/**
 * The security headers @fastify/helmet sets with these options, computed once.
 *
 * @fastify/helmet builds helmet's middleware on every request (parsing the CSP directives each
 * time) from two async hooks. With global options, no CSP nonces and no per-route settings — as
 * here — the headers are the same on every response, so they are taken from @fastify/helmet itself
 * once (a throwaway instance, one injected request, the headers it added) and set by one cheap hook.
 * Same headers, same values; helmet stays the single source of truth for them.
 */
export async function staticHelmetHeaders(options: FastifyHelmetOptions): Promise<Readonly<Record<string, string>>> {
  if (options.enableCSPNonces) throw new Error('CSP nonces differ per response: register @fastify/helmet instead');
  const headersOf = async (withHelmet: boolean) => {
    const probe = Fastify({ logger: false });
    if (withHelmet) await probe.register(helmet, options);
    probe.get('/', async () => 'ok');
    const res = await probe.inject({ method: 'GET', url: '/' });
    await probe.close();
    return res.headers;
  };
  const plain = await headersOf(false);
  const secured = await headersOf(true);
  const added: Record<string, string> = {};
  for (const [name, value] of Object.entries(secured)) {
    if (name in plain || value === undefined) continue;
    added[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return Object.freeze(added);
}
