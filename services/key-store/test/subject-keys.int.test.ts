import { randomBytes, randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { isSporbarError } from '@sporbar/common/errors';
import { pgliteSqlClient, pgPoolSqlClient, type SqlClient } from '@sporbar/common/sql';
import { createPseudonymiser } from '../src/index.ts';
import {
  createSubjectKeyStore,
  encryptDetails,
  generateMasterKeySecret,
  type MasterKey,
  migrateSubjectKeys,
  parseMasterKey,
  type PersonalDetails,
  type SubjectKeySql,
  type SubjectKeyStore,
  unwrapDataKey,
} from '../src/subject-keys/index.ts';

/**
 * The subject key table on a real PGlite (always) and on PostgreSQL (when reachable: DATABASE_URL, else
 * postgres@127.0.0.1:5432/test; skipped with the reason on a laptop without it, a failure under CI=true;
 * the probe is the event store's test support, which only needs `pg`). Every test gets its own table,
 * made by the key table's migrations.
 */
const postgres = await probePostgres();
if (postgres.skip) console.warn(`subject-keys: skipping the PostgreSQL run: ${postgres.skip}`);

const pseudonymiser = createPseudonymiser({ id: 'k1', secret: randomBytes(32).toString('base64url') });
// synthetic CPR numbers (day, month, year, serial) → realistic pseudonyms
const subjectNo = (n: number) => pseudonymiser.pseudonym(`${String((n % 28) + 1).padStart(2, '0')}0${(n % 9) + 1}8${n % 10}-${String(1000 + n).slice(-4)}`);
const uuid = () => randomUUID();
const m1 = parseMasterKey({ id: 'm1', secret: generateMasterKeySecret() });
const m2 = parseMasterKey({ id: 'm2', secret: generateMasterKeySecret() });

const login: PersonalDetails = { ipAddress: '185.107.12.34' };
const payment: PersonalDetails = { accountNumber: '9570-0012345678', benefitType: 'Sygedagpenge' };
const inquiry: PersonalDetails = {
  freeText: 'Min boligstøtte for marts er ikke kommet ind på min NemKonto. Kan I se hvorfor?',
  email: 'karen.jensen@example.dk',
  phoneNumber: '+45 20 12 34 56',
};

interface Row {
  key_id: string;
  subject: string;
  wrapped: Uint8Array | null;
  master_key_id: string | null;
  shredded_at: Date | null;
  shred_cause: string | null;
}

interface Connection {
  /** What the key store takes. */
  readonly db: SubjectKeySql;
  /** What the migrations take. */
  readonly sql: SqlClient;
  /** Another connection to the same database, as a second process would have (PGlite: the same instance). */
  another(): Promise<{ sql: SqlClient; close(): Promise<void> }>;
  close(): Promise<void>;
}

/**
 * The layouts earlier versions' start-up DDL (`ensureSchema`, no lock, no history) left, oldest first,
 * as statements for a table name. The table itself never changed; its indexes and collation did.
 */
const oldTable = (t: string, collate = '') => `CREATE TABLE IF NOT EXISTS ${t} (
  key_id text PRIMARY KEY, subject text ${collate}NOT NULL, wrapped bytea, master_key_id text, created_at timestamptz NOT NULL DEFAULT now(),
  shredded_at timestamptz, shred_cause text, shred_causation text,
  CHECK ((wrapped IS NULL) = (shredded_at IS NOT NULL)), CHECK ((shred_cause IS NULL) = (shredded_at IS NULL)),
  CHECK (shred_cause IN ('ERASURE_REQUESTED', 'RETENTION_EXPIRED')))`;
const liveKeyIndex = (t: string) => `CREATE UNIQUE INDEX IF NOT EXISTS ${t}_one_live_key ON ${t} (subject) WHERE shredded_at IS NULL`;
const layouts: Record<string, (t: string) => string[]> = {
  // subject in the database's collation, a plain index on it
  'the first': (t) => [oldTable(t), liveKeyIndex(t), `CREATE INDEX ${t}_by_subject ON ${t} (subject)`],
  // ... and an expression index on the live keys' pseudonym
  'the bulk-prepare': (t) => [oldTable(t), liveKeyIndex(t), `CREATE INDEX ${t}_by_subject ON ${t} (subject)`, `CREATE INDEX ${t}_live_by_pseudonym ON ${t} (split_part(subject, '.', 1)) WHERE shredded_at IS NULL`],
  // one expression index per pseudonym instead of the plain one (as upgraded from the previous: the live one left behind)
  'the pseudonym-index': (t) => [oldTable(t), liveKeyIndex(t), `CREATE INDEX ${t}_by_pseudonym ON ${t} (split_part(subject, '.', 1))`, `CREATE INDEX ${t}_live_by_pseudonym ON ${t} (split_part(subject, '.', 1)) WHERE shredded_at IS NULL`],
  // the last version's: this layout, C-collated, made without a migration history
  "the last version's ensureSchema": (t) => [
    oldTable(t, 'COLLATE "C" '),
    `DROP INDEX IF EXISTS ${t}_by_pseudonym`,
    `DROP INDEX IF EXISTS ${t}_by_subject`,
    liveKeyIndex(t),
    `CREATE INDEX IF NOT EXISTS ${t}_by_shred_causation ON ${t} (shred_causation) WHERE shred_causation IS NOT NULL`,
  ],
};

function keyTableSuite(backend: string, connect: () => Promise<Connection>, skip?: string) {
  describe.skipIf(skip !== undefined)(`subject key table on ${backend}`, () => {
    let conn: Connection;
    let db: SubjectKeySql;
    let sql: SqlClient;
    const tables: string[] = [];
    const schemas: string[] = [];
    beforeAll(async () => {
      conn = await connect();
      ({ db, sql } = conn);
    });
    afterAll(async () => {
      for (const t of tables) await db?.query(`DROP TABLE IF EXISTS ${t}, ${t}_migrations`);
      for (const s of schemas) await db?.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await conn?.close();
    });

    /** A fresh table; `open` makes store instances over it (each with its own cache). */
    async function freshTable() {
      const table = `subject_keys_${randomBytes(5).toString('hex')}`;
      tables.push(table);
      const open = (o: { masterKey?: MasterKey; previousMasterKeys?: MasterKey[]; cacheSize?: number; cacheTtlMs?: number; now?: () => number } = {}): SubjectKeyStore =>
        createSubjectKeyStore({ db, table, masterKey: m1, ...o });
      const store = open();
      expect(await migrateSubjectKeys(sql, { table })).toEqual([1]);
      const rows = async (subject?: string) =>
        (await db.query<Row>(`SELECT * FROM ${table} ${subject ? 'WHERE subject = $1' : ''} ORDER BY created_at, key_id`, subject ? [subject] : [])).rows;
      return { table, open, store, rows };
    }

    it('creates its table idempotently and stores only a wrapped key per subject', async () => {
      const { store, rows, table } = await freshTable();
      expect(await migrateSubjectKeys(sql, { table })).toEqual([]); // applied once, recorded
      expect((await db.query<{ version: number; name: string }>(`SELECT version, name FROM ${table}_migrations`)).rows).toEqual([{ version: 1, name: 'subject-keys' }]);
      const s = subjectNo(1);
      const key = await store.dataKeyFor(s);
      expect(key.id).toMatch(/^dk_[0-9a-f]{12}[A-Za-z0-9_-]{16}$/);
      expect(key.key).toHaveLength(32);
      const [row, ...more] = await rows(s);
      expect(more).toEqual([]);
      expect(row).toMatchObject({ key_id: key.id, subject: s, master_key_id: 'm1', shredded_at: null, shred_cause: null });
      expect(Buffer.from(row?.wrapped ?? []).length).toBe(61);
      expect(Buffer.from(row?.wrapped ?? []).includes(key.key)).toBe(false);
      expect((await store.dataKeyFor(s)).key.equals(key.key)).toBe(true);
    });

    it('refuses a subject that is not a pseudonym (a CPR number never reaches the table)', async () => {
      const { store, rows } = await freshTable();
      for (const bad of ['010190-1234', '0101901234', '', 'psn_k1_short']) {
        await expect(store.encrypt(bad, uuid(), login)).rejects.toSatisfy((e) => isSporbarError(e, 'SPB_ERR_SCHEMA_INVALID'));
      }
      expect(await rows()).toEqual([]);
    });

    it('round-trips details, also through a fresh store instance (no cache)', async () => {
      const { store, open, rows } = await freshTable();
      const [a, b] = [subjectNo(2), subjectNo(3)];
      const events = [
        { subject: a, eventId: uuid(), details: login },
        { subject: a, eventId: uuid(), details: payment },
        { subject: b, eventId: uuid(), details: inquiry },
      ];
      const blobs = await Promise.all(events.map((e) => store.encrypt(e.subject, e.eventId, e.details)));
      const fresh = open();
      for (const [i, e] of events.entries()) {
        for (const s of [store, fresh]) expect(await s.decrypt(e.subject, e.eventId, blobs[i] ?? Buffer.alloc(0))).toMatchObject({ status: 'ok', details: e.details });
      }
      expect((await rows()).map((r) => r.subject).sort()).toEqual([a, b].sort()); // one key per subject
      const stored = Buffer.concat([...blobs, ...(await rows()).map((r) => Buffer.from(r.wrapped ?? []))]).toString('latin1');
      for (const v of [...Object.values(login), ...Object.values(payment), ...Object.values(inquiry)]) expect(stored).not.toContain(v);
    });

    it('binds a blob to its event and subject: moved, it is unreadable, not a crash', async () => {
      const { store } = await freshTable();
      const [a, b] = [subjectNo(4), subjectNo(5)];
      const eventId = uuid();
      const blob = await store.encrypt(a, eventId, payment);
      await store.encrypt(b, uuid(), login); // b has a key of its own
      expect(await store.decrypt(a, uuid(), blob)).toMatchObject({ status: 'unreadable', reason: 'authentication-failed' });
      expect(await store.decrypt(b, eventId, blob)).toMatchObject({ status: 'unreadable', reason: 'wrong-subject' });
      expect(await store.decrypt(a, eventId, blob)).toMatchObject({ status: 'ok', details: payment });
    });

    it('answers unreadable for every single flipped bit of a blob', async () => {
      const { store, open } = await freshTable();
      const s = subjectNo(6);
      const eventId = uuid();
      const blob = await store.encrypt(s, eventId, login);
      const reasons = new Map<string, number>();
      const cold = open({ cacheSize: 0 });
      for (let bit = 0; bit < blob.length * 8; bit++) {
        const bad = Buffer.from(blob);
        bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        const r = await (bit % 7 === 0 ? cold : store).decrypt(s, eventId, bad);
        expect(r.status, `bit ${bit}`).toBe('unreadable');
        if (r.status === 'unreadable') reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
      }
      expect([...reasons.values()].reduce((x, y) => x + y)).toBe(blob.length * 8);
      expect(reasons.get('authentication-failed')).toBeGreaterThan(500);
      expect(await store.decrypt(s, eventId, blob)).toMatchObject({ status: 'ok', details: login });
    });

    it('answers unreadable for a wrong key, an unknown key id and garbage', async () => {
      const { store } = await freshTable();
      const s = subjectNo(7);
      const eventId = uuid();
      const real = await store.dataKeyFor(s);
      const forged = encryptDetails({ id: real.id, key: randomBytes(32) }, login, { eventId, subject: s });
      expect(await store.decrypt(s, eventId, forged)).toEqual({ status: 'unreadable', reason: 'authentication-failed', keyId: real.id });
      const orphan = encryptDetails({ id: 'dk_AAAAAAAAAAAAAAAAAAAAAA', key: randomBytes(32) }, login, { eventId, subject: s });
      expect(await store.decrypt(s, eventId, orphan)).toMatchObject({ status: 'unreadable', reason: 'unknown-key' });
      for (const junk of [Buffer.alloc(0), randomBytes(100), Buffer.from('{"ipAddress":"185.107.12.34"}')]) {
        expect(await store.decrypt(s, eventId, junk)).toEqual({ status: 'unreadable', reason: 'malformed' });
      }
    });

    it('shreds: every earlier blob answers shredded, for any store, and no key material is left', async () => {
      const { store, open, rows, table } = await freshTable();
      const [s, bystander] = [subjectNo(8), subjectNo(9)];
      const before = [
        { eventId: uuid(), details: login },
        { eventId: uuid(), details: payment },
        { eventId: uuid(), details: inquiry },
      ];
      const blobs = await Promise.all(before.map((e) => store.encrypt(s, e.eventId, e.details)));
      const keptEvent = uuid();
      const kept = await store.encrypt(bystander, keptEvent, payment);
      const oldKeyId = (await store.dataKeyFor(s)).id;
      const t0 = Date.now();

      expect(await store.shred(s, 'ERASURE_REQUESTED')).toEqual([oldKeyId]);

      const [row] = await rows(s);
      expect(row).toMatchObject({ key_id: oldKeyId, wrapped: null, shred_cause: 'ERASURE_REQUESTED' });
      const nulls = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE subject = $1 AND wrapped IS NULL`, [s]);
      expect(nulls.rows[0]?.n).toBe(1);
      // a fresh store holding the master key, and a store that has never cached anything, see the same
      for (const reader of [store, open(), open({ cacheSize: 0 })]) {
        for (const [i, e] of before.entries()) {
          const r = await reader.decrypt(s, e.eventId, blobs[i] ?? Buffer.alloc(0));
          expect(r).toMatchObject({ status: 'shredded', keyId: oldKeyId, cause: 'ERASURE_REQUESTED' });
          if (r.status === 'shredded') expect(Math.abs(r.shreddedAt.getTime() - t0)).toBeLessThan(60_000);
        }
      }
      expect(await open().decrypt(bystander, keptEvent, kept)).toMatchObject({ status: 'ok', details: payment });

      // a later disclosure is new data: a new key, readable; the old blobs stay shredded
      const laterEvent = uuid();
      const later = await store.encrypt(s, laterEvent, login);
      const newKeyId = (await store.dataKeyFor(s)).id;
      expect(newKeyId).not.toBe(oldKeyId);
      expect(await open().decrypt(s, laterEvent, later)).toMatchObject({ status: 'ok', keyId: newKeyId, details: login });
      expect(await open().decrypt(s, before[0]?.eventId ?? '', blobs[0] ?? Buffer.alloc(0))).toMatchObject({ status: 'shredded', keyId: oldKeyId });
      expect((await rows(s)).map((r) => [r.key_id, r.wrapped === null])).toEqual([[oldKeyId, true], [newKeyId, false]]);

      // idempotent: nothing live left → nothing shredded; a second erasure takes the new key too
      expect(await store.shred(s, 'ERASURE_REQUESTED')).toEqual([newKeyId]);
      expect(await store.shred(s, 'ERASURE_REQUESTED')).toEqual([]);
      expect(await open().shred(s, 'RETENTION_EXPIRED')).toEqual([]);
      expect(await store.decrypt(s, laterEvent, later)).toMatchObject({ status: 'shredded', keyId: newKeyId });
      expect((await rows()).filter((r) => r.wrapped !== null).map((r) => r.subject)).toEqual([bystander]);
    });

    it('shreds retry-safely under one causation, and refuses an unknown cause', async () => {
      const { store, rows } = await freshTable();
      const s = subjectNo(10);
      const keyId = (await store.dataKeyFor(s)).id;
      const causationEventId = uuid();
      expect(await store.shred(s, 'RETENTION_EXPIRED', { causationEventId })).toEqual([keyId]);
      expect(await store.shred(s, 'RETENTION_EXPIRED', { causationEventId })).toEqual([keyId]); // the retry can still emit its event
      expect(await store.shred(s, 'RETENTION_EXPIRED', { causationEventId: uuid() })).toEqual([]);
      expect((await rows(s))[0]?.shred_cause).toBe('RETENTION_EXPIRED');
      expect(await store.shred(subjectNo(11), 'ERASURE_REQUESTED')).toEqual([]); // never had a key
      await expect(store.shred(s, 'BECAUSE' as 'ERASURE_REQUESTED')).rejects.toSatisfy((e) => isSporbarError(e, 'SPB_ERR_SCHEMA_INVALID'));
    });

    it('sees a shred done by another store once its cache entry expires', async () => {
      const { open } = await freshTable();
      const s = subjectNo(12);
      let now = 1_000;
      const reader = open({ cacheTtlMs: 100, now: () => now });
      const eventId = uuid();
      const blob = await reader.encrypt(s, eventId, payment);
      expect((await reader.decrypt(s, eventId, blob)).status).toBe('ok');
      await open().shred(s, 'ERASURE_REQUESTED');
      now += 99; // within the time to live the cached key still answers
      expect((await reader.decrypt(s, eventId, blob)).status).toBe('ok');
      now += 2;
      expect(await reader.decrypt(s, eventId, blob)).toMatchObject({ status: 'shredded', cause: 'ERASURE_REQUESTED' });
    });

    it('decryptMany sees a shred done by another store at once, whatever its cache holds', async () => {
      const { open } = await freshTable();
      const [s, kept] = [subjectNo(13), subjectNo(14)];
      const reader = open({ cacheTtlMs: 3_600_000 }); // an hour: only the liveness check can see the shred
      const [e1, e2, e3] = [uuid(), uuid(), uuid()];
      const requests = [
        { subject: s, eventId: e1, blob: await reader.encrypt(s, e1, payment) },
        { subject: `${s}.mitid-core`, eventId: e2, blob: await reader.encrypt(`${s}.mitid-core`, e2, login) },
        { subject: kept, eventId: e3, blob: await reader.encrypt(kept, e3, inquiry) },
      ];
      expect((await reader.decryptMany(requests)).map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
      const { hits } = reader.cacheStats();
      await open().shred(s, 'ERASURE_REQUESTED');
      await open().shred(`${s}.mitid-core`, 'RETENTION_EXPIRED');
      expect((await reader.decrypt(s, e1, requests[0]!.blob)).status).toBe('ok'); // decrypt trusts its cache for cacheTtlMs
      const after = await reader.decryptMany(requests);
      expect(after[0]).toMatchObject({ status: 'shredded', cause: 'ERASURE_REQUESTED' });
      expect(after[1]).toMatchObject({ status: 'shredded', cause: 'RETENTION_EXPIRED' });
      expect(after[2]).toMatchObject({ status: 'ok', details: inquiry });
      expect(reader.cacheStats().hits).toBe(hits + 1 + 3); // nothing was unwrapped again
      expect((await reader.decrypt(s, e1, requests[0]!.blob)).status).toBe('shredded'); // the tombstone is cached now
    });

    it('decryptMany answers each blob as decrypt does: malformed, unknown, foreign, tampered, from a cold store', async () => {
      const { store, open } = await freshTable();
      const [a, b] = [subjectNo(15), subjectNo(16)];
      const eventId = uuid();
      const blob = await store.encrypt(a, eventId, payment);
      await store.encrypt(b, uuid(), login);
      const orphan = encryptDetails({ id: 'dk_AAAAAAAAAAAAAAAAAAAAAA', key: randomBytes(32) }, login, { eventId, subject: a });
      const requests = [
        { subject: a, eventId, blob },
        { subject: a, eventId, blob: randomBytes(10) },
        { subject: a, eventId, blob: orphan },
        { subject: b, eventId, blob },
        { subject: a, eventId: uuid(), blob },
        { subject: a, eventId, blob },
      ];
      const want = ['ok', 'malformed', 'unknown-key', 'wrong-subject', 'authentication-failed', 'ok'];
      for (const reader of [open(), open({ cacheSize: 0 }), store]) {
        const got = (await reader.decryptMany(requests)).map((r) => (r.status === 'unreadable' ? r.reason : r.status));
        expect(got).toEqual(want);
        for (const [i, r] of requests.entries()) {
          const one = await reader.decrypt(r.subject, r.eventId, r.blob);
          expect(one.status === 'unreadable' ? one.reason : one.status).toBe(want[i]);
        }
      }
      expect(await store.decryptMany([])).toEqual([]);
    });

    it('keeps its cache bounded (LRU) and still answers every subject', async () => {
      const { open } = await freshTable();
      const store = open({ cacheSize: 3 });
      const written = [];
      for (let i = 0; i < 10; i++) {
        const [s, eventId] = [subjectNo(20 + i), uuid()];
        written.push({ s, eventId, blob: await store.encrypt(s, eventId, login) });
      }
      expect(store.cacheStats().size).toBeLessThanOrEqual(3);
      for (const w of written) expect((await store.decrypt(w.s, w.eventId, w.blob)).status).toBe('ok');
      expect(store.cacheStats().size).toBeLessThanOrEqual(3);
      const last = written.at(-1);
      const { hits } = store.cacheStats();
      if (last) await store.decrypt(last.s, last.eventId, last.blob);
      expect(store.cacheStats().hits).toBe(hits + 1);
    });

    it('refuses to run with a master that does not open the stored keys (SPB_ERR_CONFIG)', async () => {
      const { store, open } = await freshTable();
      const s = subjectNo(13);
      const eventId = uuid();
      const blob = await store.encrypt(s, eventId, login);
      const impostor = open({ masterKey: parseMasterKey({ id: 'm1', secret: generateMasterKeySecret() }) });
      await expect(impostor.decrypt(s, eventId, blob)).rejects.toSatisfy((e) => isSporbarError(e, 'SPB_ERR_CONFIG'));
      await expect(impostor.encrypt(s, uuid(), login)).rejects.toThrow(/does not unwrap under master key 'm1'/);
      expect(() => open({ masterKey: m1, previousMasterKeys: [parseMasterKey({ id: 'm1', secret: generateMasterKeySecret() })] })).toThrow(/share the id 'm1'/);
    });

    it('rotates the master: old blobs open under the new master, the old master opens nothing, shredded keys stay gone', async () => {
      const { store, open, rows } = await freshTable();
      const written = [];
      for (let i = 0; i < 6; i++) {
        const [s, eventId] = [subjectNo(40 + i), uuid()];
        written.push({ s, eventId, blob: await store.encrypt(s, eventId, i % 2 ? payment : inquiry) });
      }
      const erased = written[0];
      if (!erased) throw new Error('no subjects');
      await store.shred(erased.s, 'ERASURE_REQUESTED');

      expect(await store.rotateMaster(m2)).toEqual({ rewrapped: 5, masterKeyId: 'm2' });
      expect(store.masterKeyId).toBe('m2');
      const after = await rows();
      expect(after.filter((r) => r.wrapped !== null).map((r) => r.master_key_id)).toEqual(Array(5).fill('m2'));
      expect(after.find((r) => r.subject === erased.s)?.wrapped).toBeNull(); // rotation never resurrects a key

      const onlyNew = open({ masterKey: m2 });
      for (const [i, w] of written.entries()) {
        const r = await onlyNew.decrypt(w.s, w.eventId, w.blob);
        expect(r.status).toBe(i === 0 ? 'shredded' : 'ok');
        if (r.status === 'ok') expect(r.details).toEqual(i % 2 ? payment : inquiry);
      }
      const onlyOld = open({ masterKey: m1 });
      const probe = written[1];
      if (!probe) throw new Error('no subjects');
      await expect(onlyOld.decrypt(probe.s, probe.eventId, probe.blob)).rejects.toThrow(/wrapped under master key 'm2', which this store does not hold/);
      for (const r of after.filter((x) => x.wrapped !== null)) {
        expect(() => unwrapDataKey(m1, r.wrapped ?? Buffer.alloc(0), { keyId: r.key_id, subject: r.subject })).toThrow(/does not unwrap/);
      }
      expect(await store.rotateMaster(m2)).toEqual({ rewrapped: 0, masterKeyId: 'm2' }); // idempotent
      await store.dataKeyFor(subjectNo(60));
      expect((await rows(subjectNo(60)))[0]?.master_key_id).toBe('m2'); // new keys use the new master
      // a store that holds both (mid-rotation deployment) reads everything
      const both = open({ masterKey: m2, previousMasterKeys: [m1] });
      expect((await both.decrypt(probe.s, probe.eventId, probe.blob)).status).toBe('ok');
    });

    it('creates exactly one key for 50 concurrent first uses, in one store and across stores', async () => {
      const { store, open, rows } = await freshTable();
      const s = subjectNo(70);
      const ids = new Set((await Promise.all(Array.from({ length: 50 }, () => store.dataKeyFor(s)))).map((k) => k.id));
      expect(ids.size).toBe(1);
      expect(await rows(s)).toHaveLength(1);

      const t = subjectNo(71);
      const stores = Array.from({ length: 5 }, () => open());
      const keys = await Promise.all(stores.flatMap((st) => Array.from({ length: 10 }, () => st.dataKeyFor(t))));
      expect(new Set(keys.map((k) => k.id)).size).toBe(1);
      expect(new Set(keys.map((k) => k.key.toString('hex'))).size).toBe(1);
      expect(await rows(t)).toHaveLength(1);
    });

    it('prepares many keys in bulk: one live key each, cache hits afterwards, the same keys for every store', async () => {
      const { store, open, rows } = await freshTable();
      const subjects = Array.from({ length: 300 }, (_, i) => subjectNo(1000 + i));
      const scoped = subjects.slice(0, 100).map((s) => `${s}.mitid-core`);
      const existing = await open().dataKeyFor(subjects[0]!); // made by another store: must be reused
      await store.prepare([...subjects, ...scoped, ...subjects.slice(0, 50)]); // duplicates are fine
      const all = await rows();
      expect(all).toHaveLength(400);
      expect(new Set(all.map((r) => r.subject)).size).toBe(400);
      const before = store.cacheStats();
      const keys = await Promise.all([...subjects, ...scoped].map((s) => store.dataKeyFor(s)));
      expect(store.cacheStats().misses).toBe(before.misses); // every key came from the cache
      expect(keys[0]?.id).toBe(existing.id);
      const fresh = open({ cacheSize: 0 });
      for (const [i, s] of [...subjects, ...scoped].entries()) {
        const eventId = uuid();
        const blob = await store.encrypt(s, eventId, login);
        expect(await fresh.decrypt(s, eventId, blob)).toMatchObject({ status: 'ok', keyId: keys[i]?.id, details: login });
      }
      await store.prepare([]); // nothing to do
      expect(await rows()).toHaveLength(400);
    });

    it('prepares across racing stores and shreds: never two live keys, never a shredded key reused', async () => {
      const { open, rows } = await freshTable();
      const subjects = Array.from({ length: 200 }, (_, i) => subjectNo(2000 + i));
      const stores = Array.from({ length: 4 }, () => open());
      await Promise.all([
        ...stores.map((st) => st.prepare(subjects)),
        ...subjects.slice(0, 20).map((s, i) => (stores[i % 4] as SubjectKeyStore).shred(s, 'ERASURE_REQUESTED')),
      ]);
      for (const s of subjects) expect((await rows(s)).filter((r) => r.wrapped !== null).length).toBeLessThanOrEqual(1);
      // After the dust settles every store encrypts under the one live key of each subject.
      for (const s of subjects) {
        const ids = new Set(await Promise.all(stores.map(async (st) => (await st.dataKeyFor(s)).id)));
        const live = (await rows(s)).filter((r) => r.wrapped !== null).map((r) => r.key_id);
        expect(live).toHaveLength(1);
        // a store that prepared before another's shred may answer from its cache until the TTL:
        // whatever it answers is a key the table has (live or shredded), never an invented one
        for (const id of ids) expect((await rows(s)).map((r) => r.key_id)).toContain(id);
      }
      // A store's own shred always wins over its own earlier prepare.
      const st = stores[0]!;
      const s = subjects[150]!;
      await st.prepare([s]);
      const [shredded] = await st.shred(s, 'ERASURE_REQUESTED');
      await st.prepare([s]);
      expect((await st.dataKeyFor(s)).id).not.toBe(shredded);
    });

    it('finds a pseudonym\'s live scopes (its own and per activity), and refuses a scope as the argument', async () => {
      const { store } = await freshTable();
      const s = subjectNo(3000);
      await store.prepare([s, `${s}.mitid-core`, `${s}.nemkonto`, `${subjectNo(3001)}.mitid-core`]);
      await store.shred(`${s}.nemkonto`, 'RETENTION_EXPIRED');
      expect(await store.liveScopes(s)).toEqual([s, `${s}.mitid-core`].sort());
      await expect(store.liveScopes(`${s}.mitid-core`)).rejects.toMatchObject({ code: 'SPB_ERR_SCHEMA_INVALID' });
    });

    it('answers live scopes as a range: neighbouring pseudonyms and their scopes stay out, shredded and other scopes too', async () => {
      const { store } = await freshTable();
      const s = subjectNo(3100);
      // pseudonyms that sort right next to s (same key id, hash differing in its last character)
      const last = s.at(-1)!;
      const neighbours = ['A', 'z', '-', '_', '0'].filter((c) => c !== last).map((c) => `${s.slice(0, -1)}${c}`);
      await store.prepare([s, `${s}.a`, `${s}.mitid-core`, `${s}.z9`, ...neighbours, ...neighbours.map((n) => `${n}.mitid-core`)]);
      expect(await store.liveScopes(s)).toEqual([s, `${s}.a`, `${s}.mitid-core`, `${s}.z9`]);
      for (const n of neighbours) expect(await store.liveScopes(n)).toEqual([n, `${n}.mitid-core`]);
      await store.shred(`${s}.a`, 'RETENTION_EXPIRED');
      expect(await store.liveScopes(s)).toEqual([s, `${s}.mitid-core`, `${s}.z9`]);
    });

    /** Runs `migrateSubjectKeys` from this connection and from another one at the same time, as two processes starting together. */
    async function migrateTwice(table: string): Promise<number[][]> {
      const other = await conn.another();
      try {
        return await Promise.all([migrateSubjectKeys(sql, { table }), migrateSubjectKeys(other.sql, { table }), migrateSubjectKeys(sql, { table })]);
      } finally {
        await other.close();
      }
    }

    it('applies each migration once when two processes migrate at once', async () => {
      const table = `subject_keys_${randomBytes(5).toString('hex')}`;
      tables.push(table);
      const applied = await migrateTwice(table);
      expect(applied.flat()).toEqual([1]); // one of them applied version 1, the others found it recorded
      expect((await db.query(`SELECT version FROM ${table}_migrations`)).rows).toEqual([{ version: 1 }]);
      const store = createSubjectKeyStore({ db, table, masterKey: m1 });
      const eventId = uuid();
      const blob = await store.encrypt(subjectNo(3150), eventId, login);
      expect(await store.decrypt(subjectNo(3150), eventId, blob)).toMatchObject({ status: 'ok', details: login });
    });

    it('keeps a schema-qualified table (and its history) in its schema, made by the migration', async () => {
      const schema = `ks_${randomBytes(5).toString('hex')}`;
      schemas.push(schema);
      const table = `${schema}.subject_keys`;
      expect(await migrateSubjectKeys(sql, { table })).toEqual([1]);
      const made = (await db.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema])).rows;
      expect(made.map((r) => r.table_name)).toEqual(['subject_keys', 'subject_keys_migrations']);
      const store = createSubjectKeyStore({ db, table, masterKey: m1 });
      const s = subjectNo(3160);
      await store.dataKeyFor(s);
      expect((await db.query(`SELECT subject FROM ${table}`)).rows).toEqual([{ subject: s }]);
      expect(await migrateSubjectKeys(sql, { table })).toEqual([]);
    });

    it('adopts the unqualified subject_keys of earlier versions as public.subject_keys, the default', async () => {
      // what ensureSchema() made with no table option: `subject_keys` on the default search path
      expect((await db.query<{ s: string }>(`SELECT current_schema() AS s`)).rows[0]?.s).toBe('public');
      for (const statement of layouts['the last version\'s ensureSchema']!('subject_keys')) await db.query(statement);
      const before = createSubjectKeyStore({ db, masterKey: m1 });
      const eventId = uuid();
      const blob = await before.encrypt(subjectNo(3170), eventId, payment);
      expect(await migrateSubjectKeys(sql)).toEqual([1]);
      expect((await db.query(`SELECT version FROM public.subject_keys_migrations`)).rows).toEqual([{ version: 1 }]);
      expect(await createSubjectKeyStore({ db, masterKey: m1, cacheSize: 0 }).decrypt(subjectNo(3170), eventId, blob)).toMatchObject({ status: 'ok', details: payment });
      await db.query(`DROP TABLE public.subject_keys, public.subject_keys_migrations`);
    });

    it.each(Object.keys(layouts))('brings a table of %s layout to this one: keys, shreds and retried erasures still answer', async (layout) => {
      const table = `subject_keys_${randomBytes(5).toString('hex')}`;
      tables.push(table);
      for (const statement of layouts[layout]!(table)) await db.query(statement);
      const before = createSubjectKeyStore({ db, table, masterKey: m1 });
      const s = subjectNo(3200);
      const eventId = uuid();
      const blob = await before.encrypt(`${s}.mitid-core`, eventId, login);
      await before.prepare([`${s}.nemkonto`, subjectNo(3201), subjectNo(3202)]);
      const causationEventId = uuid();
      const [shredded] = await before.shred(`${s}.nemkonto`, 'ERASURE_REQUESTED', { causationEventId });
      const rowsBefore = (await db.query<Row>(`SELECT * FROM ${table} ORDER BY key_id`)).rows;

      expect((await migrateTwice(table)).flat()).toEqual([1]); // adopted once, by one of the processes
      expect(await migrateSubjectKeys(sql, { table })).toEqual([]); // idempotent
      expect((await db.query<Row>(`SELECT * FROM ${table} ORDER BY key_id`)).rows).toEqual(rowsBefore); // every key kept, byte for byte
      const after = createSubjectKeyStore({ db, table, masterKey: m1, cacheSize: 0 });
      const indexes = (await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`, [table])).rows.map((r) => r.indexname);
      expect(indexes).toEqual([`${table}_by_shred_causation`, `${table}_one_live_key`, `${table}_pkey`]);
      const collation = (await db.query<{ collname: string }>(`SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation WHERE a.attrelid = '${table}'::regclass AND a.attname = 'subject'`)).rows[0];
      expect(collation?.collname).toBe('C');
      expect(await after.decrypt(`${s}.mitid-core`, eventId, blob)).toMatchObject({ status: 'ok', details: login });
      expect(await after.liveScopes(s)).toEqual([`${s}.mitid-core`]);
      expect(await after.shred(`${s}.nemkonto`, 'ERASURE_REQUESTED', { causationEventId })).toEqual([shredded]);
      await after.prepare([`${s}.mitid-core`, `${s}.nemkonto`]); // the live key is found, a new one made after the shred
      expect((await db.query(`SELECT 1 FROM ${table} WHERE subject = $1 AND shredded_at IS NULL`, [`${s}.nemkonto`])).rows).toHaveLength(1);
      expect((await after.dataKeyFor(`${s}.nemkonto`)).id).not.toBe(shredded);
    });

    it('gives key ids that grow with time (the primary key takes new keys at its right edge)', async () => {
      const { store, rows } = await freshTable();
      const first = await store.dataKeyFor(subjectNo(3300));
      await new Promise((r) => setTimeout(r, 3));
      await store.prepare([subjectNo(3301), subjectNo(3302)]);
      await new Promise((r) => setTimeout(r, 3));
      const last = await store.dataKeyFor(subjectNo(3303));
      const ids = (await rows()).map((r) => r.key_id);
      expect(ids).toHaveLength(4);
      for (const id of ids) expect(id > first.id || id === first.id).toBe(true);
      for (const id of ids) expect(id < last.id || id === last.id).toBe(true);
      expect(Number.parseInt(first.id.slice(3, 15), 16)).toBeGreaterThan(Date.now() - 60_000);
    });

    it('stays consistent when disclosures and erasures of one subject race', async () => {
      const { open, rows } = await freshTable();
      const s = subjectNo(72);
      const stores = [open(), open(), open()];
      const ops = Array.from({ length: 60 }, async (_, i) => {
        const st = stores[i % 3] as SubjectKeyStore;
        if (i % 10 === 9) return { shred: await st.shred(s, 'ERASURE_REQUESTED') };
        const eventId = uuid();
        return { eventId, blob: await st.encrypt(s, eventId, login) };
      });
      const results = await Promise.all(ops);
      const all = await rows(s);
      expect(all.filter((r) => r.wrapped === null).every((r) => r.shredded_at !== null)).toBe(true);
      expect(all.filter((r) => r.wrapped !== null).length).toBeLessThanOrEqual(1); // at most one live key
      const reader = open({ cacheSize: 0 });
      for (const r of results) {
        if ('blob' in r && r.blob && r.eventId) expect(['ok', 'shredded']).toContain((await reader.decrypt(s, r.eventId, r.blob)).status);
      }
    });
  });
}

keyTableSuite('PGlite', async () => {
  const lite = await PGlite.create();
  const sql = pgliteSqlClient(lite);
  return { db: lite, sql, another: async () => ({ sql: pgliteSqlClient(lite), close: async () => undefined }), close: () => lite.close() };
});

const pgPool = (url: string) => {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  pool.on('error', () => undefined);
  return pool;
};

keyTableSuite(
  'PostgreSQL',
  async () => {
    // A database of its own, so the default table (public.subject_keys) is this suite's to make and drop.
    const own = await createTestDatabase(postgres.url!);
    const pool = pgPool(own.url);
    const db: SubjectKeySql = { query: async <T,>(text: string, params?: unknown[]) => ({ rows: (await pool.query(text, params)).rows as T[] }) };
    const another = async () => {
      const other = pgPool(own.url); // a pool of its own: another process's connections
      return { sql: pgPoolSqlClient(other), close: () => other.end() };
    };
    return { db, sql: pgPoolSqlClient(pool), another, close: async () => (await pool.end(), await dropTestDatabase(postgres.url!, own.name)) };
  },
  postgres.skip,
);
