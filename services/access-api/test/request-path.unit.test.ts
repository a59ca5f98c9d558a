import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { devToken, PrincipalCache, recordViewWith, type Principal } from '../src/index.ts';
import { staticHelmetHeaders } from '../src/security-headers.ts';
import { bearer, deferred, metric, ME, OTHER, pseudonymiser, testApp, tick } from './helpers.ts';

/** The cheap request path: cached token verdicts, headers computed once, one object per item — same answers. */
let app: FastifyInstance | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await app?.close();
  app = undefined;
});
const ok = () => Promise.resolve();

describe('verified tokens are cached until they expire', () => {
  it('one verification per token; each token keeps its own principal', async () => {
    const t = await testApp(ok);
    app = t.app;
    const mine = devToken({ role: 'citizen', sub: 'c-me', cpr: ME });
    const other = devToken({ role: 'citizen', sub: 'c-other', cpr: OTHER });
    for (const token of [mine, mine, other, mine, other]) expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(token) })).statusCode).toBe(200);
    expect(await metric(app, 'sporbar_api_token_cache_total', { result: 'miss' })).toBe(2);
    expect(await metric(app, 'sporbar_api_token_cache_total', { result: 'hit' })).toBe(3);
    const asked = t.trace.queries.map((q) => (q.params[0] as string[])[0]);
    expect(asked).toEqual([ME, ME, OTHER, ME, OTHER].map((c) => pseudonymiser.pseudonym(c)));
  });

  it('an expired token is refused even though it was cached', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t = await testApp(ok);
    app = t.app;
    const token = devToken({ role: 'citizen', sub: 'c-me', cpr: ME, expiresInSeconds: 60 });
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(token) })).statusCode).toBe(200);
    vi.setSystemTime(Date.now() + 61_000);
    const res = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(token) });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'SPB_ERR_UNAUTHORIZED' });
  });

  it('a refused token is not cached, and the role is still checked on a cached one', async () => {
    const t = await testApp(ok);
    app = t.app;
    const citizen = devToken({ role: 'citizen', sub: 'c-me', cpr: ME });
    for (let i = 0; i < 2; i++) expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(`${citizen}x`) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(citizen) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/alerts', headers: bearer(citizen) })).statusCode).toBe(403);
    expect(await metric(app, 'sporbar_api_token_cache_total', { result: 'hit' })).toBe(1);
  });

  it('PrincipalCache: bounded, least recently used out, nothing served past its expiry', () => {
    const p = (id: string): Principal => ({ id, role: 'citizen', subject: id, subjects: [id] });
    const cache = new PrincipalCache(2);
    cache.set('a', p('a'), 1000);
    cache.set('b', p('b'), 1000);
    expect(cache.get('a', 0)?.id).toBe('a'); // a is now the most recent
    cache.set('c', p('c'), 1000);
    expect(cache.size).toBe(2);
    expect(cache.get('b', 0)).toBeUndefined();
    expect(cache.get('c', 999)?.id).toBe('c');
    expect(cache.get('c', 1000)).toBeUndefined();
    expect(new PrincipalCache(0).get('a')).toBeUndefined();
  });
});

describe('security headers', () => {
  it('are exactly what @fastify/helmet sets, on answers, errors and unknown routes', async () => {
    const options = { contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'] } } };
    const reference = Fastify();
    await reference.register(helmet, options);
    reference.get('/', async () => 'ok');
    const expected = (await reference.inject({ method: 'GET', url: '/' })).headers;
    await reference.close();
    const computed = await staticHelmetHeaders(options);
    expect(Object.keys(computed).length).toBeGreaterThan(8);
    for (const [name, value] of Object.entries(computed)) expect(expected[name]).toBe(value);

    const t = await testApp(ok);
    app = t.app;
    const citizen = devToken({ role: 'citizen', sub: 'c-me', cpr: ME });
    for (const res of [
      await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(citizen) }),
      await app.inject({ method: 'GET', url: '/v1/me/disclosures' }),
      await app.inject({ method: 'GET', url: '/nowhere' }),
    ]) {
      for (const [name, value] of Object.entries(computed)) expect(res.headers[name], `${name} on ${res.statusCode}`).toBe(value);
    }
    expect(computed['content-security-policy']).toContain("default-src 'self'");
  });
});

describe('the answer', () => {
  it('is the schema’s allow-list: recipient name and details added, the stored pseudonym not sent', async () => {
    const t = await testApp(ok);
    app = t.app;
    const res = await app.inject({ method: 'GET', url: '/v1/me/disclosures?limit=1', headers: bearer(devToken({ role: 'citizen', sub: 'c-me', cpr: ME })) });
    const body = res.json() as { items: Array<Record<string, unknown>>; nextCursor: string | null };
    expect(body.items).toHaveLength(1);
    expect(body.nextCursor).toEqual(expect.any(String));
    expect(body.items[0]).toMatchObject({ recipientId: 'nets-danid', recipientName: expect.any(String), details: null, occurredAt: '2026-09-12T00:00:00.000Z' });
    expect(body.items[0]).not.toHaveProperty('subject');
    expect(res.body).not.toContain(pseudonymiser.pseudonym(ME));
  });

  it('one log line per request: method, route and status, never the query string', async () => {
    const t = await testApp(ok);
    app = t.app;
    const ref = pseudonymiser.pseudonym(ME);
    await app.inject({ method: 'GET', url: `/v1/subjects/${ref}/timeline?reason=SAG-SECRET-7`, headers: bearer(devToken({ role: 'caseworker', sub: 'cw' })) });
    const lines = t.logs.filter((l) => l['msg'] === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'GET', route: '/v1/subjects/:ref/timeline', status: 200 });
    expect(JSON.stringify(t.logs)).not.toContain('SAG-SECRET-7');
    expect(JSON.stringify(t.logs)).not.toContain(ref);
  });
});

describe('recordViewWith: the bound on self-views in flight', () => {
  const request = (role: Principal['role'], subject: string) =>
    ({ principal: { id: subject, role, subject, subjects: [subject] }, method: 'GET', routeOptions: { url: '/v1/me/disclosures' }, log: { error: () => undefined } }) as unknown as FastifyRequest;

  it('beyond maxPendingSelfViews a self-view is awaited (backpressure, fails closed)', async () => {
    const acks = [deferred(), deferred(), deferred()];
    let n = 0;
    const recordView = recordViewWith({ recordReportViewed: () => acks[n++]!.promise }, { maxPendingSelfViews: 2 });
    await recordView(request('citizen', 'psn_a'), 'psn_a', null);
    await recordView(request('citizen', 'psn_a'), 'psn_a', null);
    expect(recordView.pending()).toBe(2);
    let third = false;
    const waiting = recordView(request('citizen', 'psn_a'), 'psn_a', null).then(() => (third = true));
    await tick();
    expect(third).toBe(false);
    acks[2]!.resolve();
    await waiting;
    acks[0]!.resolve();
    acks[1]!.resolve();
    await recordView.drain();
    expect(recordView.pending()).toBe(0);
  });

  it('a citizen token naming someone else’s subject is not a self-view', async () => {
    const recordView = recordViewWith({ recordReportViewed: () => Promise.reject(new Error('down')) });
    await expect(recordView(request('citizen', 'psn_a'), 'psn_b', null)).rejects.toMatchObject({ code: 'SPB_ERR_STORE_UNAVAILABLE', statusCode: 503 });
    await expect(recordView(request('auditor', 'psn_a'), 'psn_a', 'AUDIT-1')).rejects.toMatchObject({ statusCode: 503 });
  });
});
