import { generateKeyPairSync } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, buildApp, devPublicKey, devToken } from '@sporbar/access-api';
import { isSporbarError } from '@sporbar/common/errors';
import { register } from '@sporbar/schemas';
import { startEmbeddedSystem, type EmbeddedSystem } from '../src/index.ts';

/** The access API on the embedded system: auth, roles, bad input, the Art. 15 report, the access log. */
const ME = '150377-2814';
const OTHER = '020202-4242';
let system: EmbeddedSystem;
// The sub is an account id, never the CPR number (a CPR-shaped sub is refused): the CPR number has its own claim.
const citizen = (cpr = ME) => devToken({ role: 'citizen', sub: `citizen-${cpr === ME ? 'me' : 'other'}`, cpr });
const as = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  system = await startEmbeddedSystem({});
  const mitid = register.activities.find((a) => a.id === 'mitid-core')!;
  const nemkonto = register.activities.find((a) => a.id === 'nemkonto-register')!;
  const record = (cpr: string, activity: typeof mitid, i: number, at: string) => {
    const f = activity.flows[i % activity.flows.length]!;
    return system.producer.recordDisclosure({
      subject: { cpr },
      activity: activity.id,
      recipient: { id: f.recipientId, role: f.roles[0] },
      purpose: f.purposeIds[0]!,
      legalBases: [...f.legalBases],
      dataCategories: [...f.categoryIds],
      occurredAt: new Date(at),
    });
  };
  for (let i = 0; i < 12; i++) await record(ME, mitid, i, `2026-09-${String(10 + i).padStart(2, '0')}T10:00:00Z`);
  for (let i = 0; i < 5; i++) await record(ME, nemkonto, i, `2026-10-0${1 + i}T12:00:00Z`);
  for (let i = 0; i < 7; i++) await record(OTHER, mitid, i, `2026-09-01T08:00:00Z`);
  // One undeclared: Akamai receiving NemKonto data.
  await system.producer.recordDisclosure({
    subject: { cpr: ME },
    activity: 'nemkonto-register',
    recipient: { id: 'akamai-denmark', role: 'CONTROLLER' },
    purpose: nemkonto.purposeIds[0]!,
    legalBases: ['LBK_494_2023'],
    dataCategories: [nemkonto.categoryIds[0]!],
    occurredAt: new Date('2026-10-20T12:00:00Z'),
  });
  await system.settle();
});
afterAll(() => system?.close());

const get = (url: string, token?: string, accept = 'application/json') =>
  system.app.inject({ method: 'GET', url, headers: { accept, ...(token ? as(token) : {}) } });

describe('authentication: every bad token is a 401 with a code', () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signWith = (key: string, opts: Record<string, unknown>) => createSigner({ key, ...opts })({ sub: 'x', role: 'citizen', cpr: ME });
  const header = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const cases: Array<[string, string | undefined]> = [
    ['no token', undefined],
    ['malformed', 'not.a.jwt'],
    ['garbage', 'x'.repeat(500)],
    ['expired', signWith(other.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { algorithm: 'ES256', aud: AUDIENCE, expiresIn: -1000 })],
    ['signed by another key', signWith(other.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { algorithm: 'ES256', aud: AUDIENCE, expiresIn: 60_000 })],
    ['alg none', `${header({ alg: 'none', typ: 'JWT' })}.${header({ sub: 'x', role: 'citizen', cpr: ME, aud: AUDIENCE, exp: 9_999_999_999 })}.`],
    ['HS256 with the public key as secret', signWith(devPublicKey().export({ format: 'pem', type: 'spki' }).toString(), { algorithm: 'HS256', aud: AUDIENCE, expiresIn: 60_000 })],
  ];
  it.each(cases)('%s', async (_name, token) => {
    const res = await get('/v1/me/disclosures', token);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'SPB_ERR_UNAUTHORIZED' });
  });

  it('wrong audience', async () => {
    const key = (await import('@sporbar/access-api')).readDevKey();
    const { createPrivateKey } = await import('node:crypto');
    const pem = createPrivateKey({ key: key.privateJwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }).toString();
    const res = await get('/v1/me/disclosures', signWith(pem, { algorithm: 'ES256', aud: 'some-other-api', expiresIn: 60_000 }));
    expect(res.statusCode).toBe(401);
  });

  it('production refuses to start with the development key', async () => {
    await expect(
      buildApp({ readModels: system.readModels, register, pseudonymiser: system.pseudonymiser, views: system.producer, jwtPublicKey: devPublicKey(), production: true }),
    ).rejects.toSatisfy((e) => isSporbarError(e, 'SPB_ERR_CONFIG') && /development JWT key/.test((e as Error).message));
  });
});

describe('a citizen sees their own data, and only that', () => {
  it('GET /v1/me/disclosures: own disclosures, newest first, cursor pagination', async () => {
    const first = await get('/v1/me/disclosures?limit=10', citizen());
    expect(first.statusCode).toBe(200);
    const p1 = first.json() as { items: Array<{ eventId: string; occurredAt: string; recipientName: string }>; nextCursor: string };
    expect(p1.items).toHaveLength(10);
    expect(p1.items[0]!.occurredAt).toBe('2026-10-20T12:00:00.000Z');
    const p2 = (await get(`/v1/me/disclosures?limit=10&cursor=${p1.nextCursor}`, citizen())).json() as typeof p1;
    expect(p2.items).toHaveLength(8);
    expect(p2.nextCursor).toBeNull();
    expect(new Set([...p1.items, ...p2.items].map((i) => i.eventId)).size).toBe(18);
    const other = (await get('/v1/me/disclosures?limit=100', citizen(OTHER))).json() as typeof p1;
    expect(other.items).toHaveLength(7);
    expect(other.items.some((i) => p1.items.concat(p2.items).some((m) => m.eventId === i.eventId))).toBe(false);
  });

  it('filters by recipient and period', async () => {
    const res = (await get('/v1/me/disclosures?recipient=akamai-denmark', citizen())).json() as { items: Array<{ recipientId: string }> };
    expect(res.items.length).toBeGreaterThan(0);
    expect(res.items.every((i) => i.recipientId === 'akamai-denmark')).toBe(true);
    const october = (await get('/v1/me/disclosures?from=2026-10-01&to=2026-11-01', citizen())).json() as { items: unknown[] };
    expect(october.items).toHaveLength(6);
  });

  it('cannot reach another subject by URL: caseworker routes are forbidden to citizens', async () => {
    const ref = system.pseudonymiser.pseudonym(OTHER);
    const res = await get(`/v1/subjects/${ref}/disclosures?reason=CASE-1`, citizen());
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'SPB_ERR_FORBIDDEN' });
  });

  it.each([
    ['absurd page size', '/v1/me/disclosures?limit=100000'],
    ['zero page size', '/v1/me/disclosures?limit=0'],
    ['forged cursor', `/v1/me/disclosures?cursor=${Buffer.from('["x","y"]').toString('base64url')}`],
    ['SQL in a filter', `/v1/me/disclosures?recipient=${encodeURIComponent("x' OR '1'='1")}`],
    ['SQL in purpose', `/v1/me/disclosures?purpose=${encodeURIComponent('a;DROP TABLE rm_subject_disclosures--')}`],
    ['script in a date', `/v1/me/disclosures?from=${encodeURIComponent('<script>alert(1)</script>')}`],
    ['unknown parameter', '/v1/me/disclosures?subject=psn_x'],
  ])('%s is a 400, never a 500', async (_name, url) => {
    const res = await get(url, citizen());
    expect(res.statusCode).toBe(400);
    expect((res.json() as { code: string }).code).toBe('SPB_ERR_BAD_REQUEST');
  });
});

describe('the Art. 15 report', () => {
  it('is complete and taken from the register', async () => {
    const res = await get('/v1/me/report', citizen());
    expect(res.statusCode).toBe(200);
    const r = res.json() as {
      totalDisclosures: number;
      recipients: Array<{ recipient: { id: string; name: string } }>;
      notices: Array<{ id: string; controller: { cvr: string }; dataProtectionOfficer: { email: string }; complaint: { authorityDa: string }; rights: Array<{ right: string; status: string; reason?: string }>; activities: Array<{ id: string; retention: unknown[]; sourcesOfData: unknown[]; recipients: Array<{ name: string }> }> }>;
    };
    expect(r.totalDisclosures).toBe(18);
    expect(r.notices.map((n) => n.id).sort()).toEqual(['mitid', 'nemkonto']);
    const mitid = r.notices.find((n) => n.id === 'mitid')!;
    expect(mitid.controller.cvr).toBe('34051178');
    expect(mitid.dataProtectionOfficer.email).toBe('dpo@digst.dk');
    expect(mitid.complaint.authorityDa).toBe('Datatilsynet');
    const portability = mitid.rights.find((x) => x.right === 'portability')!;
    expect(portability.status).toBe('not-applicable');
    expect(portability.reason).toMatch(/authority/i);
    for (const right of ['access', 'rectification', 'erasure', 'restriction', 'objection', 'withdraw-consent']) expect(mitid.rights.map((x) => x.right)).toContain(right);
    const names = mitid.activities.flatMap((a) => a.recipients.map((x) => x.name)).join(' | ');
    expect(names).toMatch(/Akamai/);
    expect(names).toMatch(/Nets DanID/);
    const core = mitid.activities.find((a) => a.id === 'mitid-core')!;
    expect(core.retention.length).toBeGreaterThan(0);
    expect(core.sourcesOfData.length).toBeGreaterThan(0);
    expect(mitid.activities.every((a) => a.retention.length > 0)).toBe(true);
  });

  it('is served as an accessible Danish or English page', async () => {
    const da = await get('/v1/me/report', citizen(), 'text/html');
    expect(da.headers['content-type']).toMatch(/text\/html/);
    expect(da.body).toMatch(/<html lang="da">/);
    expect(da.body).toContain('Hvem har modtaget mine oplysninger');
    expect(da.body).toMatch(/<caption>Modtagere<\/caption>/);
    const en = await get('/v1/me/report?lang=en&recipient=akamai-denmark', citizen(), 'text/html');
    expect(en.body).toContain('Who received my data');
    expect(en.body).not.toMatch(new RegExp(ME.slice(0, 6)));
  });
});

describe('caseworkers, DPOs and auditors', () => {
  const caseworker = devToken({ role: 'caseworker', sub: 'cw-anna' });

  it('a caseworker must state a reason, and every view is recorded and shown to the citizen', async () => {
    const ref = (await system.app.inject({ method: 'POST', url: '/v1/subjects/lookup', headers: as(caseworker), payload: { cpr: ME } })).json() as { ref: string };
    expect(ref.ref).toBe(system.pseudonymiser.pseudonym(ME));
    expect((await get(`/v1/subjects/${ref.ref}/disclosures`, caseworker)).statusCode).toBe(400);
    const ok = await get(`/v1/subjects/${ref.ref}/disclosures?reason=SAG-2026-0042`, caseworker);
    expect(ok.statusCode).toBe(200);
    await system.settle();
    const mine = (await get('/v1/access-log', citizen())).json() as { items: Array<{ viewerId: string; viewerRole: string; reason: string | null }> };
    expect(mine.items.find((i) => i.viewerRole === 'CASEWORKER')).toMatchObject({ viewerId: 'cw-anna', reason: 'SAG-2026-0042' });
    const all = (await get('/v1/access-log?limit=100', devToken({ role: 'auditor' }))).json() as { items: Array<{ subject: string }> };
    expect(all.items.length).toBeGreaterThanOrEqual(mine.items.length);
    const others = (await get('/v1/access-log', citizen(OTHER))).json() as { items: unknown[] };
    expect(others.items.some((i) => (i as { viewerId: string }).viewerId === 'cw-anna')).toBe(false);
  });

  it('the DPO sees undeclared disclosures and per-recipient volumes', async () => {
    const dpo = devToken({ role: 'dpo' });
    const alerts = (await get('/v1/alerts', dpo)).json() as { items: Array<{ recipientId: string; reasons: string[] }> };
    expect(alerts.items.find((a) => a.recipientId === 'akamai-denmark')?.reasons).toContain('RECIPIENT_NOT_DECLARED');
    const summary = (await get('/v1/recipients/akamai-denmark/summary', dpo)).json() as { recipient: { name: string }; totals: { disclosures: number; undeclared: number } };
    expect(summary.recipient.name).toMatch(/Akamai/);
    expect(summary.totals.undeclared).toBe(1);
    expect((await get('/v1/alerts', caseworker)).statusCode).toBe(403);
    expect((await get('/v1/recipients/nobody-at-all/summary', dpo)).statusCode).toBe(404);
  });

  it('serves OpenAPI, health and metrics', async () => {
    expect((await get('/health')).json()).toEqual({ status: 'ok' });
    const openapi = await get('/docs/json');
    expect(openapi.statusCode).toBe(200);
    expect(Object.keys((openapi.json() as { paths: object }).paths)).toEqual(expect.arrayContaining(['/v1/me/disclosures', '/v1/me/report', '/v1/alerts', '/v1/access-log']));
    expect((await get('/metrics')).body).toMatch(/sporbar_api_request_seconds_bucket/);
  });
});
