import { describe, expect, it } from 'vitest';
import { checkAnswer, probe, readiness } from '../src/health.ts';

describe('health and readiness checks', () => {
  it('probe: ok, a timeout, or the error code or class, never its message', async () => {
    expect(await probe(async () => 1)).toBe('ok');
    expect(await probe(() => new Promise(() => undefined), 20)).toBe('timeout');
    const refused = Object.assign(new Error('connect ECONNREFUSED postgres://u:secret@db/x'), { code: 'ECONNREFUSED' });
    expect(await probe(async () => Promise.reject(refused))).toBe('unreachable (ECONNREFUSED)');
    expect(await probe(async () => Promise.reject(new TypeError('postgres://u:secret@db/x')))).toBe('unreachable (TypeError)');
  });

  it('readiness: ready when every probe is ok, each named; the answer is 200 or 503', async () => {
    const ok = await readiness({ a: async () => 'ok', b: async () => 'ok' });
    expect(ok).toEqual({ ok: true, detail: { a: 'ok', b: 'ok' } });
    expect(checkAnswer(ok, 'ready')).toEqual({ status: 200, body: { status: 'ready', checks: { a: 'ok', b: 'ok' } } });
    const not = await readiness({ a: async () => 'ok', b: async () => 'timeout' });
    expect(checkAnswer(not, 'ready')).toEqual({ status: 503, body: { status: 'not ready', checks: { a: 'ok', b: 'timeout' } } });
    expect(checkAnswer({ ok: false }, 'ok')).toEqual({ status: 503, body: { status: 'unhealthy' } });
  });
});
