import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SporbarError } from '@sporbar/common/errors';
import { devToken } from '../src/index.ts';
import { bearer, deferred, metric, ME, pseudonymiser, testApp, tick } from './helpers.ts';

/**
 * Which views are recorded how (record-view.ts, README "ReportViewed"):
 * - someone else's data (caseworker, auditor): recorded and acknowledged before any data is read;
 *   if it cannot be recorded the request fails with 503 — fail closed;
 * - a citizen's own data: handed to the producer before the query, not awaited; a failure is
 *   logged and counted, closing the app waits for what is in flight.
 */
const citizen = devToken({ role: 'citizen', sub: 'citizen-1', cpr: ME });
const caseworker = devToken({ role: 'caseworker', sub: 'cw-anna' });
const mine = pseudonymiser.pseudonym(ME);
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('a caseworker looking at a subject (someone else’s data): fail closed', () => {
  it('a view the producer refuses for its input (its text rules) is a 400 naming the field, not a 503; no data read', async () => {
    // The route's own schema refuses a CPR-shaped reason before the producer sees it (the fuzz test);
    // here the producer is the one that refuses, as it would for a rule the route does not repeat.
    const t = await testApp(() => Promise.reject(new SporbarError('SPB_ERR_CPR_IN_TEXT', 'ReportViewed.reason: holds something shaped like a CPR number')));
    app = t.app;
    const res = await app.inject({ method: 'GET', url: `/v1/subjects/${mine}/timeline?reason=SAG-2026-0042`, headers: bearer(caseworker) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'SPB_ERR_CPR_IN_TEXT', message: expect.stringContaining('reason') });
    expect(t.trace.queries).toHaveLength(0);
    const cpr = await app.inject({ method: 'GET', url: `/v1/subjects/${mine}/timeline?reason=SAG-0101901234`, headers: bearer(caseworker) });
    expect(cpr.statusCode).toBe(400);
    expect(cpr.body).not.toContain('0101901234');
  });

  it('the view, with its reason, is acknowledged before the data is read', async () => {
    const ack = deferred();
    const t = await testApp(() => ack.promise);
    app = t.app;
    let answered = false;
    const res = app.inject({ method: 'GET', url: `/v1/subjects/${mine}/timeline?reason=SAG-2026-0042`, headers: bearer(caseworker) }).then((r) => {
      answered = true;
      return r;
    });
    await tick(50);
    expect(t.trace.events).toEqual(['view']); // handed over, not yet acknowledged: nothing read
    expect(answered).toBe(false);
    ack.resolve();
    expect((await res).statusCode).toBe(200);
    expect(t.trace.events).toEqual(['view', 'query']);
    expect(t.trace.views[0]).toMatchObject({ subject: { pseudonym: mine }, viewerId: 'cw-anna', viewerRole: 'CASEWORKER', reason: 'SAG-2026-0042' });
    expect(await metric(app, 'sporbar_api_views_recorded_total', { role: 'caseworker', mode: 'sync' })).toBe(1);
  });

  it.each([
    ['the broker is away and the spool cannot take it', new SporbarError('SPB_ERR_SPOOL_FULL', 'spool full'), 'SPB_ERR_SPOOL_FULL'],
    ['any other failure', new Error('connection refused'), 'SPB_ERR_STORE_UNAVAILABLE'],
  ])('%s: 503, no data read, logged and counted', async (_name, failure, code) => {
    const t = await testApp(() => Promise.reject(failure));
    app = t.app;
    for (const url of [`/v1/subjects/${mine}/timeline?reason=SAG-1`, `/v1/subjects/${mine}/disclosures?reason=SAG-1`, `/v1/subjects/${mine}/report?reason=SAG-1`]) {
      const res = await app.inject({ method: 'GET', url, headers: bearer(caseworker) });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code });
    }
    expect(t.trace.queries).toHaveLength(0);
    expect(await metric(app, 'sporbar_api_view_record_failures_total', { role: 'caseworker', mode: 'sync' })).toBe(3);
    const logged = t.logs.filter((l) => l['msg'] === 'view could not be recorded: request refused');
    expect(logged).toHaveLength(3);
    expect(JSON.stringify(logged)).not.toContain(mine); // the subject is not in the log
  });
});

describe('a citizen looking at their own data: recorded, off the critical path', () => {
  it('the view is handed over before the query and the answer does not wait for its acknowledgement', async () => {
    const ack = deferred();
    const t = await testApp(() => ack.promise);
    app = t.app;
    const res = await app.inject({ method: 'GET', url: '/v1/me/disclosures?limit=10', headers: bearer(citizen) });
    expect(res.statusCode).toBe(200);
    expect(t.trace.events).toEqual(['view', 'query']);
    expect(t.trace.views[0]).toMatchObject({ subject: { pseudonym: mine }, viewerId: mine, viewerRole: 'CITIZEN', reason: null, view: 'GET /v1/me/disclosures' });
    expect(await metric(app, 'sporbar_api_views_pending')).toBe(1);
    ack.resolve();
    await tick();
    expect(await metric(app, 'sporbar_api_views_pending')).toBe(0);
    expect(await metric(app, 'sporbar_api_views_recorded_total', { role: 'citizen', mode: 'async' })).toBe(1);
  });

  it('a view that cannot be recorded is never silent: logged at error level and counted', async () => {
    const t = await testApp(() => Promise.reject(new Error('broker unreachable')));
    app = t.app;
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(citizen) })).statusCode).toBe(200);
    await tick();
    expect(await metric(app, 'sporbar_api_view_record_failures_total', { role: 'citizen', mode: 'async' })).toBe(1);
    const logged = t.logs.filter((l) => l['level'] === 50 && /own data could not be recorded/.test(String(l['msg'])));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ viewerRole: 'citizen', err: { message: 'broker unreachable' } });
    expect(JSON.stringify(t.logs)).not.toContain(mine);
    expect(JSON.stringify(t.logs)).not.toContain(ME);
  });

  it('after a failure, self-views fail closed until one is accepted again', async () => {
    let up = false;
    const t = await testApp(() => (up ? Promise.resolve() : Promise.reject(new Error('broker unreachable'))));
    app = t.app;
    const get = (url = '/v1/me/disclosures') => app!.inject({ method: 'GET', url, headers: bearer(citizen) });
    expect((await get()).statusCode).toBe(200); // answered ahead of the producer: this one is lost, logged and counted
    await tick();
    for (const url of ['/v1/me/disclosures', '/v1/me/report']) expect((await get(url)).statusCode).toBe(503); // now awaited: no trace, no data
    expect(t.trace.queries).toHaveLength(1);
    up = true;
    expect((await get()).statusCode).toBe(200); // awaited, accepted: the API answers ahead again
    expect(await metric(app, 'sporbar_api_views_recorded_total', { role: 'citizen', mode: 'sync' })).toBe(1);
    expect((await get()).statusCode).toBe(200); // and ahead of the producer again
    await tick();
    expect(await metric(app, 'sporbar_api_views_recorded_total', { role: 'citizen', mode: 'async' })).toBe(1);
    expect(await metric(app, 'sporbar_api_view_record_failures_total', { role: 'citizen' })).toBe(3);
  });

  it('a view the producer refuses at once (it throws) is logged and counted too', async () => {
    const t = await testApp(() => {
      throw new Error('schema invalid');
    });
    app = t.app;
    expect((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(citizen) })).statusCode).toBe(200);
    await tick();
    expect(await metric(app, 'sporbar_api_view_record_failures_total', { role: 'citizen', mode: 'async' })).toBe(1);
  });

  it('closing the app waits for the views still in flight', async () => {
    const ack = deferred();
    const t = await testApp(() => ack.promise);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(citizen) })).statusCode).toBe(200);
    let closed = false;
    const closing = t.app.close().then(() => (closed = true));
    await tick(50);
    expect(closed).toBe(false);
    ack.resolve();
    await closing;
    expect(closed).toBe(true);
  });

  it("selfViews: 'sync' makes the citizen's view fail closed as well", async () => {
    const t = await testApp(() => Promise.reject(new Error('broker unreachable')), { selfViews: 'sync' });
    app = t.app;
    const res = await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: bearer(citizen) });
    expect(res.statusCode).toBe(503);
    expect(t.trace.queries).toHaveLength(0);
    expect(await metric(app, 'sporbar_api_view_record_failures_total', { role: 'citizen', mode: 'sync' })).toBe(1);
  });
});
