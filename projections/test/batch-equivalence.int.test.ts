import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore, createPostgresEventStore, type EventStore, type EventToAppend } from '@sporbar/event-store';
import { createCodec, register, type DisclosureRecorded, type EventMap, type EventType } from '@sporbar/schemas';
import { generateEvents, storedMetadata } from '../bench/generate.ts';
import { allProjections, createProjectionRunner, createReadModelTables, dropReadModelTables, fromPgPool, fromPglite, subjectDisclosures, type SqlDatabase } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../services/event-store/test/support/postgres.ts';

/**
 * Set-based apply must not change what the read models hold: the same log, projected one event per
 * transaction and in batches (7 events, and all at once), gives identical tables, row for row.
 */

// Top-level: decides skip (laptop) or throw (CI=true) before any test is registered.
const probe = await probePostgres();

const codec = createCodec();
const projections = allProjections(register);
const DAY = 86_400_000;
const T = Date.UTC(2026, 0, 10, 12); // ms
const us = (ms: number) => ms * 1000;
const psn = (name: string) => `psn_k1_${name.padEnd(43, 'x')}`;
let ids = 0;
const uuid = () => `00000000-0000-4000-8000-${(++ids).toString(16).padStart(12, '0')}`;

const flow = (id: string) => {
  for (const a of register.activities) for (const f of a.flows) if (f.id === id) return { activity: a, flow: f };
  throw new Error(`no flow ${id}`);
};

function disclosure(subject: string, flowId: string, atMs: number, over: Partial<DisclosureRecorded> = {}): DisclosureRecorded {
  const { activity, flow: f } = flow(flowId);
  return {
    eventId: uuid(),
    occurredAt: us(atMs),
    sourceSystem: activity.id,
    controllerCvr: '34051178',
    activity: activity.id,
    subject: { scheme: 'PSEUDONYM', value: psn(subject) },
    recipient: { id: f.recipientId, role: f.roles[0] },
    purpose: f.purposeIds[0]!,
    legalBases: [...f.legalBases],
    dataCategories: f.categoryIds.slice(0, 2),
    transfer: null,
    personalDetails: null,
    correlationId: null,
    ...over,
  };
}

const ev = <K extends EventType>(type: K, data: EventMap[K]): { type: K; data: EventMap[K] } => ({ type, data });
const subject = (name: string) => ({ scheme: 'PSEUDONYM' as const, value: psn(name) });

/** The cases generated traffic rarely lines up: all in one batch when batched, in this order in the log. */
function handcrafted() {
  const weird = ['a "quoted" cat', 'back\\slash', 'comma,brace{}', 'NULL', 'null', '', ' spaced ', 'ünïcødé'];
  return [
    // Unsorted, repeated legal bases: kept as they are in a summary of one, sorted and merged in a summary of two.
    ev('DisclosureRecorded', disclosure('x', 'mitid-core-mitid-broker', T, { legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E', 'MITID_ACT_783_2021'] })),
    ev('DisclosureRecorded', disclosure('x', 'mitid-core-mitid-broker', T - 5000, { recipient: { id: 'mitid-broker', role: 'PUBLIC_AUTHORITY' }, dataCategories: ['user-id', 'name'] })),
    ev('DisclosureRecorded', disclosure('y', 'mitid-core-mitid-broker', T, { legalBases: ['MITID_ACT_783_2021', 'GDPR_ART6_1_E', 'MITID_ACT_783_2021'] })),
    // Around midnight: two ledger days.
    ev('DisclosureRecorded', disclosure('x', 'mitid-core-nets-danid', Date.UTC(2026, 0, 10, 23, 59, 59, 999))),
    ev('DisclosureRecorded', disclosure('x', 'mitid-core-nets-danid', Date.UTC(2026, 0, 11))),
    // Retention: due, expired, re-opened by a later disclosure, shredded, re-opened again; a second activity.
    ev('DisclosureRecorded', disclosure('z', 'mitid-support-dba-inquiries', T)),
    ev('DisclosureRecorded', disclosure('z', 'nemkonto-register-kmd', T)),
    ev('RetentionExpired', { eventId: uuid(), occurredAt: us(T + DAY), subject: subject('z'), activity: 'mitid-support', retentionRule: 'mitid-support-call-data-90-days', coversUntil: us(T) }),
    ev('DisclosureRecorded', disclosure('z', 'mitid-support-dba-inquiries', T + 2 * DAY)),
    ev('SubjectKeyShredded', { eventId: uuid(), occurredAt: us(T + 3 * DAY), subject: subject('z'), keyId: 'k', cause: 'ERASURE_REQUESTED', causationEventId: uuid() }),
    ev('RetentionExpired', { eventId: uuid(), occurredAt: us(T + 3 * DAY), subject: subject('z'), activity: 'nemkonto-register', retentionRule: 'nemkonto-account-end-of-year-plus-10', coversUntil: us(T) }),
    ev('DisclosureRecorded', disclosure('z', 'mitid-support-dba-inquiries', T + 4 * DAY)),
    ev('RetentionExpired', { eventId: uuid(), occurredAt: us(T + 5 * DAY), subject: subject('z'), activity: 'mitid-support', retentionRule: 'mitid-support-call-data-90-days', coversUntil: us(T + 4 * DAY) }),
    // Consent: a withdrawal later in the log but earlier in time than a recording must not reach back.
    ev('ConsentGiven', { eventId: uuid(), occurredAt: us(T), sourceSystem: 'mitid-support', activity: 'mitid-support', subject: subject('w'), scope: 'CALL_RECORDING' }),
    ev('DisclosureRecorded', disclosure('w', 'mitid-support-dba-call-recording', T + 10_000)),
    ev('ConsentWithdrawn', { eventId: uuid(), occurredAt: us(T + 5000), sourceSystem: 'mitid-support', activity: 'mitid-support', subject: subject('w'), scope: 'CALL_RECORDING' }),
    ev('DisclosureRecorded', disclosure('w', 'mitid-support-dba-call-recording', T + 20_000)),
    ev('DisclosureRecorded', disclosure('v', 'mitid-support-dba-call-recording', T)),
    // Free text that needs quoting and escaping, bytes, a transfer, an undeclared recipient (twice).
    ev('ReportViewed', { eventId: uuid(), occurredAt: us(T), subject: subject('z'), viewerId: 'caseworker-"7"', viewerRole: 'CASEWORKER', reason: 'case "42", back\\slash, {braces}', view: 'GET /v1/subjects/:ref/disclosures?x=1 2' }),
    ev('ReportViewed', { eventId: uuid(), occurredAt: us(T), subject: subject('z'), viewerId: 'NULL', viewerRole: 'CITIZEN', reason: null, view: '' }),
    ev('DisclosureRecorded', disclosure('u', 'nemkonto-register-kmd', T, { activity: 'mitid-core', dataCategories: weird, transfer: { country: 'US', safeguard: 'NONE' }, personalDetails: Buffer.from([0, 1, 2, 0x5c, 0x22, 255]), correlationId: 'corr "x", {y}' })),
    ev('DisclosureRecorded', disclosure('u', 'nemkonto-register-kmd', T + 1, { activity: 'mitid-core', dataCategories: [...weird].reverse(), correlationId: 'NULL' })),
  ];
}

async function writeLog(store: EventStore): Promise<bigint> {
  await generateEvents({ store, events: 1200, subjects: 25, seed: 7, batchSize: 500, from: new Date(T - 60 * DAY), to: new Date(T) });
  const events: EventToAppend[] = handcrafted().map(({ type, data }) => ({ eventId: data.eventId, type, data: codec.encode(type, data as never), metadata: storedMetadata(register, codec, type, data) }));
  await store.appendMany(events.map((e) => ({ streamName: 'handcrafted', events: [e] })));
  return store.headPosition();
}

/** Every read-model table, every row as text, sorted. */
async function dump(db: SqlDatabase, prefix: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const p of projections) {
    for (const t of p.tables) {
      const { rows } = await db.query<{ r: string }>(`SELECT t::text AS r FROM ${prefix}${t} t ORDER BY 1`);
      out[t] = rows.map((r) => r.r);
    }
  }
  return out;
}

async function project(store: EventStore, db: SqlDatabase, head: bigint, prefix: string, batchSize: number) {
  const runner = createProjectionRunner({ store, db, codec, projections, prefix, batchSize, onError: (e) => console.error(e) });
  await runner.start();
  await runner.waitFor(head);
  await runner.stop();
  return dump(db, prefix);
}

async function count(db: SqlDatabase, sql: string): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>(sql);
  return Number(rows[0]!.n);
}

function equivalenceSuite(open: () => Promise<{ store: EventStore; db: SqlDatabase }>) {
  let store: EventStore;
  let db: SqlDatabase;
  let head: bigint;
  beforeAll(async () => {
    ({ store, db } = await open());
    head = await writeLog(store);
  });

  it('projects the same tables one event per transaction and in batches of 7 and of 5,000', async () => {
    const one = await project(store, db, head, 'rm_one_', 1);
    // The log has what makes batching hard, at least once.
    expect(await count(db, `SELECT count(*) AS n FROM rm_one_subject_recipients WHERE disclosures > 1`)).toBeGreaterThan(50);
    expect(await count(db, `SELECT count(*) AS n FROM rm_one_recipient_daily WHERE disclosures > 1`)).toBeGreaterThan(10);
    expect(await count(db, `SELECT count(*) AS n FROM rm_one_retention_schedule WHERE done_by = 'RetentionExpired'`)).toBeGreaterThan(0);
    expect(await count(db, `SELECT count(*) AS n FROM rm_one_retention_schedule WHERE done_by = 'SubjectKeyShredded'`)).toBeGreaterThan(0);
    expect(await count(db, `SELECT count(*) AS n FROM rm_one_consent_events WHERE NOT given`)).toBeGreaterThan(1);
    expect(await count(db, `SELECT count(*) AS n FROM rm_one_compliance_alerts WHERE reasons = ARRAY['CONSENT_MISSING']`)).toBeGreaterThan(1);
    expect(await count(db, `SELECT count(*) AS n FROM rm_one_compliance_alerts WHERE reasons <> ARRAY['CONSENT_MISSING']`)).toBeGreaterThan(1);
    expect(await count(db, `SELECT count(*) AS n FROM rm_one_access_log`)).toBeGreaterThan(5);
    // The consent withdrawn later in the log does not reach back; the recording after it is flagged.
    expect(await count(db, `SELECT count(*) AS n FROM rm_one_compliance_alerts WHERE subject = '${psn('w')}'`)).toBe(1);
    // Free text survives the array literals.
    const { rows } = await db.query<{ data_categories: string[]; correlation_id: string; details: Uint8Array }>(
      `SELECT data_categories, correlation_id, details FROM rm_one_subject_disclosures WHERE subject = '${psn('u')}' ORDER BY occurred_at`,
    );
    expect(rows[0]).toMatchObject({ data_categories: ['a "quoted" cat', 'back\\slash', 'comma,brace{}', 'NULL', 'null', '', ' spaced ', 'ünïcødé'], correlation_id: 'corr "x", {y}' });
    expect([...rows[0]!.details]).toEqual([0, 1, 2, 0x5c, 0x22, 255]);
    expect(rows[1]!.correlation_id).toBe('NULL');

    expect(await project(store, db, head, 'rm_seven_', 7)).toEqual(one);
    expect(await project(store, db, head, 'rm_all_', 5000)).toEqual(one);
  });

  it('a replayed disclosure changes neither its row nor the summaries (the savepoint fallback)', async () => {
    const events: Parameters<typeof subjectDisclosures.project>[0][] = [];
    for await (const e of store.readAll()) {
      const decoded = codec.decode(e.data);
      events.push({ type: decoded.eventType, data: decoded.event, eventId: e.eventId, globalPosition: e.globalPosition, metadata: e.metadata } as never);
    }
    const changes = events.flatMap((e) => subjectDisclosures.project(e));
    const once = 'rm_once_';
    const twice = 'rm_twice_';
    for (const prefix of [once, twice]) {
      await createReadModelTables(db, [subjectDisclosures], prefix);
      await dropReadModelTables(db, [subjectDisclosures], prefix);
      await createReadModelTables(db, [subjectDisclosures], prefix);
    }
    await db.transaction((tx) => subjectDisclosures.apply(tx, changes, once));
    const half = Math.floor(changes.length / 2);
    await db.transaction((tx) => subjectDisclosures.apply(tx, changes.slice(0, half + 100), twice));
    await db.transaction((tx) => subjectDisclosures.apply(tx, changes.slice(half), twice));
    await db.transaction((tx) => subjectDisclosures.apply(tx, changes.slice(half, half + 10), twice));
    for (const t of subjectDisclosures.tables) {
      const rows = async (prefix: string) => (await db.query<{ r: string }>(`SELECT t::text AS r FROM ${prefix}${t} t ORDER BY 1`)).rows;
      expect(await rows(twice)).toEqual(await rows(once));
    }
  });
}

describe('batched apply = one event at a time (PGlite)', () => {
  let pglite: PGlite;
  let store: EventStore;
  afterAll(async () => {
    await store?.close();
    await pglite?.close();
  });
  equivalenceSuite(async () => {
    pglite = await PGlite.create();
    store = await createPgliteEventStore({ db: pglite });
    return { store, db: fromPglite(pglite) };
  });
});

describe.skipIf(!probe.url)('batched apply = one event at a time (PostgreSQL)', () => {
  let database: { name: string; url: string } | undefined;
  let pool: pg.Pool | undefined;
  let store: EventStore | undefined;
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    if (database) await dropTestDatabase(probe.url!, database.name);
  });
  equivalenceSuite(async () => {
    database = await createTestDatabase(probe.url!);
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    pool.on('error', () => undefined);
    store = await createPostgresEventStore({ pool });
    return { store, db: fromPgPool(pool) };
  });
});
