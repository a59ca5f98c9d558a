import { Writable } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allProjections, createReadModelTables, encodeCursor, fromPglite, type SqlDatabase } from '@sporbar/projections';
import { register } from '@sporbar/schemas';
import { buildApp, devToken, type Role } from '../src/index.ts';
import { ME, pseudonymiser } from './helpers.ts';

/**
 * Every route × every parameter × hostile values, with a valid token of each role allowed there, over
 * real read models (PGlite): never a 500, every refusal `{ code, message }`, every 400 naming its
 * parameter, and no log line with the raw input. Deterministic: one seeded generator.
 */
const REF = pseudonymiser.pseudonym(ME);
const MARK = 'ZqXmark';

function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(0x5eed17);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const UUID = '00000000-0000-4000-8000-000000000001';

/** Hostile values: fixed ones every parameter gets, plus seeded random strings. */
const FIXED: readonly string[] = [
  '', ' ', '0', '-1', '1e309', 'Infinity', '-Infinity', 'NaN', '9007199254740993', '99999999999999999999999', '1.5', '0x10', 'null', 'true', '[]', '{}',
  '2024-02-30', '0000-01-01', '2023-02-29', '2024-13-01', '2024-00-10', '2024-01-32', 'T25:61:61Z', '2024-01-01T25:61:61Z', '2024-01-01T23:59:60Z', '2024-01-01T10:00:00+99:99',
  '2024-01-01T10:00:00.1234567Z', '99999-01-01', '+002024-01-01', '2024-1-1', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59.999999-14:59',
  `x'; DROP TABLE rm_subject_disclosures; --`, `' OR 1=1 --${MARK}`, '$1', '%', '_', '\\', '"', "'", '../../etc/passwd', '<script>alert(1)</script>',
  'RAW:%FF', 'RAW:%C3%28', 'RAW:%', 'RAW:%zz', 'RAW:a&b', 'RAW:a%00b',
  '\u0000', `a\u0000b${MARK}`, '\u0001\u001f\u007f', '\r\n', '\ud800', '\uffff', '𝒳😀', 'ÆØÅæøå', '\u202e', 'a'.repeat(81), MARK.repeat(2000),
  '150377-2814', '1503772814', 'SAG 150377-2814', REF, `${REF}x`, 'psn_k1_short', 'psn_K1_' + 'a'.repeat(43),
  b64(['2024-02-30T00:00:00Z', UUID]), b64(['0000-01-01T00:00:00Z', UUID]), b64(['1', UUID]), b64(['2024-01-01T00:00:00Z', 'x']), b64([123, UUID]), b64({ at: 1 }),
  b64('[]'), b64('not json'), b64(['2024-01-01T00:00:00Z', UUID, 3]), b64(['T25:61:61Z', UUID]), encodeCursor({ at: '2026-01-01T00:00:00.000000Z', id: UUID }),
];
function randomValue(): string {
  const alphabets = ['0123456789', 'abcdefghijklmnopqrstuvwxyz-_', '\u0000\u0001\t\n\u001b', '%&=?#+[]', 'ÆØÅ𝒳😀\u202e', "'\";\\"];
  const n = Math.floor(rand() * 60);
  let s = '';
  for (let i = 0; i < n; i++) {
    const a = [...pick(alphabets)];
    s += pick(a);
  }
  return s;
}
const VALUES: readonly string[] = [...FIXED, ...Array.from({ length: 25 }, randomValue)];

interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly roles: readonly Role[];
  /** Valid values of every parameter (query or body), the baseline each case changes one of. */
  readonly valid: Record<string, string>;
  /** Path parameters, substituted into the path. */
  readonly pathParams?: Record<string, string>;
  readonly body?: boolean;
  readonly accept?: string;
}

const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/v1/me/disclosures', roles: ['citizen'], valid: { cursor: encodeCursor({ at: '2026-06-01T00:00:00.000000Z', id: UUID }), limit: '10', from: '2026-01-01', to: '2026-12-31T00:00:00Z', recipient: 'nets-danid', purpose: 'mitid-issuance' } },
  { method: 'GET', path: '/v1/me/report', roles: ['citizen'], valid: { lang: 'en', recipient: 'nets-danid', from: '2026-01-01', to: '2026-12-31' } },
  { method: 'GET', path: '/v1/me/report', roles: ['citizen'], valid: { lang: 'da', recipient: 'nets-danid', from: '2026-01-01', to: '2026-12-31' }, accept: 'text/html' },
  { method: 'GET', path: '/v1/me/access-log', roles: ['citizen'], valid: { cursor: encodeCursor({ at: '2026-06-01T00:00:00.000000Z', id: UUID }), limit: '5' } },
  { method: 'POST', path: '/v1/subjects/lookup', roles: ['caseworker', 'auditor'], valid: { cpr: ME }, body: true },
  { method: 'GET', path: '/v1/subjects/:ref/disclosures', roles: ['caseworker', 'auditor'], valid: { reason: 'SAG-2026-1' }, pathParams: { ref: REF } },
  { method: 'GET', path: '/v1/subjects/:ref/timeline', roles: ['caseworker', 'auditor'], valid: { reason: 'SAG-2026-1', from: '2026-01-01', to: '2026-12-31', recipient: 'nets-danid', purpose: 'mitid-issuance', cursor: encodeCursor({ at: '2026-06-01T00:00:00.000000Z', id: UUID }), limit: '3' }, pathParams: { ref: REF } },
  { method: 'GET', path: '/v1/subjects/:ref/report', roles: ['caseworker', 'auditor'], valid: { reason: 'SAG-2026-1' }, pathParams: { ref: REF } },
  { method: 'GET', path: '/v1/recipients/:id/summary', roles: ['dpo', 'auditor'], valid: { from: '2026-01-01', to: '2026-12-31' }, pathParams: { id: 'nets-danid' } },
  { method: 'GET', path: '/v1/alerts', roles: ['dpo', 'auditor'], valid: { cursor: encodeCursor({ at: '2026-06-01T00:00:00.000000Z', id: UUID }), limit: '20', reason: 'UNDECLARED_RECIPIENT' } },
  { method: 'GET', path: '/v1/retention/overdue', roles: ['dpo', 'auditor'], valid: {} },
  { method: 'GET', path: '/v1/quarantine', roles: ['dpo', 'auditor'], valid: { limit: '10', all: 'true' } },
  { method: 'GET', path: '/v1/access-log', roles: ['auditor', 'citizen'], valid: { cursor: encodeCursor({ at: '2026-06-01T00:00:00.000000Z', id: UUID }), limit: '7' } },
];

const tokens: Record<Role, string> = {
  citizen: devToken({ role: 'citizen', sub: 'c-me', cpr: ME }),
  caseworker: devToken({ role: 'caseworker', sub: 'cw-1' }),
  dpo: devToken({ role: 'dpo', sub: 'dpo-1' }),
  auditor: devToken({ role: 'auditor', sub: 'aud-1' }),
};

interface Case {
  readonly label: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly role: Role;
  readonly payload?: unknown;
  readonly accept?: string;
  /** The value under test is distinctive enough to look for in the logs. */
  readonly marked: boolean;
}

/** Percent-encodes the UTF-8 bytes (a lone surrogate becomes U+FFFD's bytes); `RAW:` values go into the URL as they are (bad escapes). */
const enc = (s: string): string => (s.startsWith('RAW:') ? s.slice(4) : [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join(''));
const query = (params: ReadonlyArray<readonly [string, string]>) => (params.length ? `?${params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}` : '');
const pathOf = (r: Route, override: Record<string, string> = {}) => r.path.replace(/:(\w+)/g, (_, name: string) => enc(override[name] ?? r.pathParams![name]!));

function cases(): Case[] {
  const out: Case[] = [];
  for (const r of ROUTES) {
    for (const role of r.roles) {
      const base = Object.entries(r.valid);
      const add = (label: string, params: ReadonlyArray<readonly [string, string]>, value: string, pathOverride: Record<string, string> = {}, payload?: unknown) =>
        out.push({ label: `${role} ${r.method} ${r.path} ${label}`, method: r.method, url: pathOf(r, pathOverride) + (r.body ? '' : query(params)), role, ...(r.body ? { payload: payload ?? Object.fromEntries(params) } : {}), ...(r.accept ? { accept: r.accept } : {}), marked: value.includes(MARK) });
      add('valid', base, '');
      for (const name of [...Object.keys(r.valid), ...Object.keys(r.pathParams ?? {})]) {
        const isPath = r.pathParams?.[name] !== undefined;
        for (const v of VALUES) {
          if (isPath) add(`${name}=${JSON.stringify(v)}`, base, v, { [name]: v });
          else add(`${name}=${JSON.stringify(v).slice(0, 40)}`, base.map(([k, old]) => [k, k === name ? v : old] as const), v);
        }
        if (isPath) continue;
        // repeated keys, array syntax, the key alone, an unknown key
        add(`${name} twice`, [...base, [name, pick(VALUES)]], '');
        add(`${name}[]`, [...base.filter(([k]) => k !== name), [`${name}[]`, r.valid[name]!]], '');
        add(`${name} missing`, base.filter(([k]) => k !== name), '');
        if (r.body) {
          add(`${name} as array`, base, '', {}, { ...r.valid, [name]: [r.valid[name]] });
          add(`${name} as number`, base, '', {}, { ...r.valid, [name]: 150377 });
          add(`${name} as null`, base, '', {}, { ...r.valid, [name]: null });
        }
      }
      add('unknown key', [...base, [`x${MARK}`, '1']], MARK);
      if (r.body) add('body not an object', [], '', {}, [1, 2]);
    }
  }
  return out;
}

let pglite: PGlite;
let db: SqlDatabase;
let app: FastifyInstance;
const logs: string[] = [];

beforeAll(async () => {
  pglite = new PGlite();
  db = fromPglite(pglite);
  await createReadModelTables(db, allProjections(register), 'rm_');
  for (let i = 0; i < 5; i++) {
    const id = `00000000-0000-4000-8000-${String(i + 10).padStart(12, '0')}`;
    await db.query(
      `INSERT INTO rm_subject_disclosures (event_id, subject, position, occurred_at, activity, recipient_id, recipient_role, purpose, legal_bases, data_categories, classification, reasons)
       VALUES ($1, $2, $3, $4::timestamptz, 'mitid-core', 'nets-danid', 'PROCESSOR', 'mitid-issuance', '{GDPR_ART6_1_E}', '{name}', 'declared', '{}')`,
      [id, REF, i + 1, `2026-0${i + 1}-15T10:00:00Z`],
    );
    await db.query(`INSERT INTO rm_access_log (event_id, subject, occurred_at, viewer_id, viewer_role, reason, view) VALUES ($1, $2, $3::timestamptz, 'cw-1', 'CASEWORKER', 'SAG-1', 'report')`, [id, REF, `2026-0${i + 1}-16T10:00:00Z`]);
  }
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (logs.push(chunk.toString()), done()) }));
  app = await buildApp({
    readModels: { db, prefix: () => 'rm_' },
    register,
    pseudonymiser,
    views: { recordReportViewed: () => Promise.resolve() },
    jwtPublicKey: (await import('../src/index.ts')).devPublicKey(),
    production: false,
    logger,
    rateLimitPerMinute: 1_000_000,
  });
});
afterAll(async () => {
  await app?.close();
  await pglite?.close();
});

describe('the 500-fuzz: every route × parameter × hostile value', () => {
  it('no answer is a 500; every refusal is { code, message }; every 400 names a parameter; no raw input in the logs', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(1500);
    const byStatus = new Map<number, number>();
    const fivehundreds: string[] = [];
    const badShape: string[] = [];
    for (const c of all) {
      const res = await app.inject({ method: c.method, url: c.url, headers: { authorization: `Bearer ${tokens[c.role]}`, ...(c.accept ? { accept: c.accept } : {}) }, ...(c.payload !== undefined ? { payload: c.payload as object } : {}) });
      byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) fivehundreds.push(`${c.label.slice(0, 150)} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      else if (res.statusCode >= 400) {
        const body = res.json() as { code?: unknown; message?: unknown; details?: { field?: unknown } };
        const ok = typeof body.code === 'string' && body.code.startsWith('SPB_ERR_') && typeof body.message === 'string' && (res.statusCode !== 400 || typeof body.details?.field === 'string');
        if (!ok) badShape.push(`${c.label.slice(0, 150)} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    expect(fivehundreds).toEqual([]);
    expect(badShape).toEqual([]);
    // The fuzz reaches both sides: answers (the valid baselines and harmless values) and refusals.
    expect(byStatus.get(200) ?? 0).toBeGreaterThan(100);
    expect(byStatus.get(400) ?? 0).toBeGreaterThan(1000);
    expect(logs.join('')).not.toContain(MARK);
    expect(logs.join('')).not.toContain('unhandled error');
    console.log(`fuzz: ${all.length} requests; by status ${JSON.stringify(Object.fromEntries([...byStatus].sort()))}`);
  });

  it('the 400 names the parameter', async () => {
    const get = async (url: string, role: Role = 'citizen') => (await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens[role]}` } })).json() as { code: string; details: { field: string } };
    for (const [url, field] of [
      ['/v1/me/disclosures?from=2024-02-30', 'from'],
      ['/v1/me/disclosures?to=0000-01-01', 'to'],
      ['/v1/me/disclosures?from=2024-01-01T25:61:61Z', 'from'],
      ['/v1/me/disclosures?limit=Infinity', 'limit'],
      ['/v1/me/disclosures?limit=0', 'limit'],
      [`/v1/me/disclosures?cursor=${b64(['2024-02-30T00:00:00Z', UUID])}`, 'cursor'],
      [`/v1/me/access-log?cursor=${b64(['1', UUID])}`, 'cursor'],
    ] as const) expect(await get(url), url).toMatchObject({ code: 'SPB_ERR_BAD_REQUEST', details: { field } });
    expect(await get(`/v1/subjects/${REF}/timeline?reason=150377-2814`, 'caseworker')).toMatchObject({ code: 'SPB_ERR_BAD_REQUEST', details: { field: 'reason' } });
    expect(await get(`/v1/subjects/psn_nope/disclosures?reason=SAG-1`, 'caseworker')).toMatchObject({ code: 'SPB_ERR_BAD_REQUEST', details: { field: 'ref' } });
    expect(await get(`/v1/recipients/nets-danid/summary?from=0000-01-01`, 'dpo')).toMatchObject({ code: 'SPB_ERR_BAD_REQUEST', details: { field: 'from' } });
  });
});
