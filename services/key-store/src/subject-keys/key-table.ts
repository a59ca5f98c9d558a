import { createCache } from '@sporbar/common/cache';
import { isSporbarError, SporbarError } from '@sporbar/common/errors';
import { type ShredCause, ShredCauseValues } from '@sporbar/schemas';
import { PSEUDONYM_PATTERN } from '../pseudonym.ts';
import { type DataKey, decryptDetails, encryptDetails, type PersonalDetails, readDetailsKeyId } from './envelope.ts';
import { type MasterKey, newDataKeys, unwrapDataKey, wrapDataKey } from './master-key.ts';

/**
 * The subject key table: one data key per subject "generation", stored only wrapped by the master key.
 *
 * Rows are keyed by `key_id`, not by subject: a partial unique index allows at most one *live* key
 * per subject. Shredding (erasure, retention expiry) sets `wrapped = NULL` and keeps the row as a
 * tombstone (when, why), so blobs naming that key id answer "shredded", for ever: no key material
 * is left anywhere in the table. A disclosure recorded after the shred is new data: `dataKeyFor`
 * creates a fresh key with a new id, and the old blobs, which name the old id, stay unreadable.
 *
 * Works on PostgreSQL (`pg`) and PGlite through the one-method `SubjectKeySql`. No statement needs a
 * transaction: creation is `INSERT … ON CONFLICT DO NOTHING` then `SELECT`; shredding is one
 * `UPDATE`; re-wrapping is a compare-and-set per row that never touches a shredded row. The table
 * itself is made and kept up to date by versioned migrations (`migrateSubjectKeys`, ./migrations).
 *
 * Unwrapped keys are cached (LRU, bounded, with a time to live). Within one store, shred and key
 * loads for a subject are serialised, so the cache never outlives a shred done by the same store.
 * `decrypt` trusts the cache: a shred done by another process reaches it at the latest after
 * `cacheTtlMs` (the ingest, which is the one that shreds, uses it). `decryptMany` does not: it asks
 * the table, in one indexed query, which of the key ids it is about to use are shredded, so a shred
 * committed by any process before the call is seen by the call (what every reader of details, the
 * access API, uses); the cache then only saves the unwrapping.
 */
export interface SubjectKeySql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/** The key table's default name and schema: where the unqualified `subject_keys` of earlier versions resolved (the default search path). */
export const SUBJECT_KEYS_TABLE = 'subject_keys';
export const SUBJECT_KEYS_SCHEMA = 'public';
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** 52 = 63 (PostgreSQL's identifier limit) less `_migrations`, the suffix of the table's migration history. */
const TABLE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,51}$/;
const ROTATION_BATCH = 500;

/** Where a key table lives: its schema, its name, and both as one SQL name. */
export interface SubjectKeyTable {
  readonly schema: string;
  readonly name: string;
  /** `schema.name`, safe to splice into SQL. */
  readonly qualified: string;
}

/**
 * `[schema.]name` → the table; the schema defaults to `public`, the name to `subject_keys`. Refuses
 * anything that is not a plain lower-case identifier (the name is spliced into SQL).
 */
export function subjectKeyTable(table: string | undefined = SUBJECT_KEYS_TABLE): SubjectKeyTable {
  const parts = table.split('.');
  const [schema, name] = parts.length === 2 ? parts : [SUBJECT_KEYS_SCHEMA, parts[0]];
  if (parts.length > 2 || !schema || !name || !IDENTIFIER.test(schema) || !TABLE_IDENTIFIER.test(name)) {
    throw new SporbarError('SPB_ERR_CONFIG', `subject key table name must be [schema.]name of [a-z0-9_] (a name of at most 52), got '${table.slice(0, 80)}'`);
  }
  return { schema, name, qualified: `${schema}.${name}` };
}

export type UnreadableReason =
  /** Not a version-1 details blob (too short, bad version or key id, bad length). */
  | 'malformed'
  /** The blob names a key id this table never had. */
  | 'unknown-key'
  /** The key the blob names belongs to another subject. */
  | 'wrong-subject'
  /** GCM refused it: altered bytes, wrong key, or a blob moved to another event. */
  | 'authentication-failed';

export type DetailsDecryptResult =
  | { readonly status: 'ok'; readonly keyId: string; readonly details: PersonalDetails }
  | { readonly status: 'shredded'; readonly keyId: string; readonly shreddedAt: Date; readonly cause: ShredCause }
  | { readonly status: 'unreadable'; readonly reason: UnreadableReason; readonly keyId?: string };

/** One blob to open: the key scope it was encrypted for, the event it belongs to, the blob. */
export interface DecryptRequest {
  readonly subject: string;
  readonly eventId: string;
  readonly blob: Uint8Array;
}

export interface SubjectKeyStoreOptions {
  readonly db: SubjectKeySql;
  /** The master key new data keys are wrapped under. */
  readonly masterKey: MasterKey;
  /** Older masters this store can still unwrap with (during a rotation). */
  readonly previousMasterKeys?: readonly MasterKey[];
  /** `[schema.]table`, default `subject_keys` in schema `public`; made (and kept up to date) by `migrateSubjectKeys`. */
  readonly table?: string;
  /** Unwrapped keys kept in memory (LRU); default 10,000; 0 turns the cache off. */
  readonly cacheSize?: number;
  /** How long a live key stays cached: the bound on how late `decrypt` sees another process's shred (`decryptMany` sees it at once); default 60 s. */
  readonly cacheTtlMs?: number;
  /** The clock (ms) that times `cacheTtlMs` (default: `performance.now`); tests inject their own. */
  readonly now?: () => number;
}

export interface SubjectKeyStore {
  /**
   * The subject's live data key, created on first use (race-safe across processes). After a shred
   * this is a new key with a new id: later disclosures are new data.
   */
  dataKeyFor(subject: string): Promise<DataKey>;
  /**
   * Loads the live keys of many subjects at once, creating the missing ones: one SELECT and at most
   * one INSERT (plus one SELECT for keys another process created meanwhile) for the whole set, so an
   * ingest batch of a thousand new subjects costs three round trips instead of two thousand. Later
   * `encrypt`/`dataKeyFor` calls for these subjects are cache hits. Purely an optimisation: what it
   * cannot settle (a key shredded meanwhile) is left to the per-subject path.
   */
  prepare(subjects: Iterable<string>): Promise<void>;
  /** Encrypts details under the subject's live key, bound to eventId and subject. */
  encrypt(subject: string, eventId: string, details: PersonalDetails): Promise<Buffer>;
  /**
   * Opens a blob; a shredded key or a bad blob is a result, never an exception. Trusts the cache: a
   * shred by another process is seen at the latest after `cacheTtlMs`.
   */
  decrypt(subject: string, eventId: string, blob: Uint8Array): Promise<DetailsDecryptResult>;
  /**
   * Opens many blobs (index for index), seeing every shred committed before the call, whichever
   * process did it: one query settles which of the key ids named are shredded (and loads the ones not
   * cached), by primary key, whatever the cache holds. What a reader that is not the shredder uses.
   */
  decryptMany(blobs: readonly DecryptRequest[]): Promise<DetailsDecryptResult[]>;
  /**
   * Destroys the wrapped key material of every live key of the subject and evicts them from the
   * cache. Returns the key ids shredded by this call, plus, when `causationEventId` is given, those
   * shredded earlier under the same causation (so a retried erasure can still emit its events).
   * Idempotent.
   */
  shred(subject: string, cause: ShredCause, options?: { causationEventId?: string }): Promise<string[]>;
  /** The key scopes of a pseudonym that still hold a live key (the pseudonym itself and its activity scopes). */
  liveScopes(pseudonym: string): Promise<string[]>;
  /**
   * Re-wraps every live key under `newMasterKey` (resumable: run it again after a crash) and makes it
   * this store's master. Blobs are untouched; shredded rows stay empty.
   */
  rotateMaster(newMasterKey: MasterKey): Promise<{ rewrapped: number; masterKeyId: string }>;
  /** The id of the master new keys are wrapped under. */
  readonly masterKeyId: string;
  cacheStats(): { size: number; hits: number; misses: number };
}

type KeyEntry =
  | { readonly state: 'live'; readonly subject: string; readonly key: Buffer }
  | { readonly state: 'shredded'; readonly subject: string; readonly shreddedAt: Date; readonly cause: ShredCause };

interface KeyRow {
  key_id: string;
  subject: string;
  wrapped: Uint8Array | null;
  master_key_id: string | null;
  shredded_at: Date | string | null;
  shred_cause: string | null;
}

/**
 * Keys are kept per key scope: a subject pseudonym, optionally narrowed to one processing activity
 * (`psn_k1_….mitid-support`), so retention can shred one activity's details while another activity's
 * (with a longer retention) stay readable.
 */
export const keyScope = (pseudonym: string, activity?: string | null): string => (activity ? `${pseudonym}.${activity}` : pseudonym);
const SCOPE_PATTERN = new RegExp(`${PSEUDONYM_PATTERN.source.slice(0, -1)}(\\.[a-z0-9][a-z0-9-]{0,79})?$`);

function checkSubject(subject: string): void {
  if (typeof subject !== 'string' || !SCOPE_PATTERN.test(subject)) {
    throw new SporbarError('SPB_ERR_SCHEMA_INVALID', 'subject keys are kept per subject pseudonym (psn_<keyId>_<hash>), never per CPR number or other identifier');
  }
}

export function createSubjectKeyStore(options: SubjectKeyStoreOptions): SubjectKeyStore {
  const { db } = options;
  const t = subjectKeyTable(options.table).qualified;
  const cacheSize = options.cacheSize ?? 10_000;
  const ttl = options.cacheTtlMs ?? 60_000;
  const cacheClock = options.now ? { now: options.now } : {};
  let master = options.masterKey;
  const keyring = new Map<string, MasterKey>();
  for (const m of [...(options.previousMasterKeys ?? []), master]) addToKeyring(m);
  const keys = createCache<string, KeyEntry>(cacheSize, cacheClock); // key id → key or tombstone
  const current = createCache<string, string>(cacheSize, cacheClock); // subject → live key id
  const locks = new Map<string, Promise<unknown>>();
  /** Moves when a shred by this store starts or ends: a bulk load that overlaps one caches nothing. */
  let shredEpoch = 0;
  let hits = 0;
  let misses = 0;

  function addToKeyring(m: MasterKey): void {
    const known = keyring.get(m.id);
    if (known && !known.key.equals(m.key)) {
      throw new SporbarError('SPB_ERR_CONFIG', `two different master keys share the id '${m.id}': a new master key needs a new id`);
    }
    keyring.set(m.id, m);
  }

  /** Key loads and shreds of one subject run one at a time in this store. */
  async function withLock<T>(subject: string, fn: () => Promise<T>): Promise<T> {
    const run = (locks.get(subject) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(subject, tail);
    try {
      return await run;
    } finally {
      if (locks.get(subject) === tail) locks.delete(subject);
    }
  }

  function unwrap(row: KeyRow): Buffer {
    const m = row.master_key_id === null ? undefined : keyring.get(row.master_key_id);
    if (!m || !row.wrapped) {
      throw new SporbarError(
        'SPB_ERR_CONFIG',
        `the data key '${row.key_id}' is wrapped under master key '${row.master_key_id}', which this store does not hold (it holds ${[...keyring.keys()].map((k) => `'${k}'`).join(', ')})`,
      );
    }
    return unwrapDataKey(m, row.wrapped, { keyId: row.key_id, subject: row.subject });
  }

  function entryOf(row: KeyRow): KeyEntry {
    if (row.wrapped === null) {
      return { state: 'shredded', subject: row.subject, shreddedAt: new Date(row.shredded_at ?? 0), cause: row.shred_cause as ShredCause };
    }
    return { state: 'live', subject: row.subject, key: unwrap(row) };
  }

  const selectColumns = 'key_id, subject, wrapped, master_key_id, shredded_at, shred_cause';

  function cachedLive(subject: string): DataKey | undefined {
    const keyId = current.get(subject);
    const entry = keyId === undefined ? undefined : keys.get(keyId);
    if (keyId !== undefined && entry?.state === 'live' && entry.subject === subject) return { id: keyId, key: entry.key };
    return undefined;
  }

  async function liveKey(subject: string): Promise<DataKey> {
    const hit = cachedLive(subject);
    if (hit) {
      hits++;
      return hit;
    }
    return withLock(subject, async () => {
      const again = cachedLive(subject); // another caller may have loaded it while this one waited
      if (again) {
        hits++;
        return again;
      }
      misses++;
      for (let attempt = 0; attempt < 3; attempt++) {
        const found = await db.query<KeyRow>(`SELECT ${selectColumns} FROM ${t} WHERE subject = $1 AND shredded_at IS NULL`, [subject]);
        let row = found.rows[0];
        let key: Buffer | undefined;
        if (!row) {
          const { id, key: fresh } = newDataKeys(1)[0]!;
          const inserted = await db.query<{ key_id: string }>(
            `INSERT INTO ${t} (key_id, subject, wrapped, master_key_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (subject) WHERE shredded_at IS NULL DO NOTHING RETURNING key_id`,
            [id, subject, wrapDataKey(master, fresh, { keyId: id, subject }), master.id],
          );
          if (inserted.rows.length === 1) {
            row = { key_id: id, subject, wrapped: null, master_key_id: master.id, shredded_at: null, shred_cause: null };
            key = fresh;
          } else {
            // another process created it first: use theirs
            row = (await db.query<KeyRow>(`SELECT ${selectColumns} FROM ${t} WHERE subject = $1 AND shredded_at IS NULL`, [subject])).rows[0];
          }
        }
        if (!row) continue; // created and shredded again in between: try once more
        key ??= unwrap(row);
        keys.set(row.key_id, { state: 'live', subject, key }, ttl);
        current.set(subject, row.key_id, ttl);
        return { id: row.key_id, key };
      }
      throw new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'the subject key kept being shredded while it was being created; retry');
    });
  }

  /** The key a blob names: undefined when the table never had it, 'foreign' when it is another subject's. */
  async function entryByKeyId(subject: string, keyId: string): Promise<KeyEntry | 'foreign' | undefined> {
    const hit = keys.get(keyId);
    if (hit) {
      hits++;
      return hit.subject === subject ? hit : 'foreign';
    }
    return withLock(subject, async () => {
      const again = keys.get(keyId);
      if (again) return again.subject === subject ? again : 'foreign';
      misses++;
      const row = (await db.query<KeyRow>(`SELECT ${selectColumns} FROM ${t} WHERE key_id = $1`, [keyId])).rows[0];
      if (!row) return undefined;
      if (row.subject !== subject) return 'foreign'; // not cached: that subject's lock is not held
      const entry = entryOf(row);
      // a tombstone never comes back to life: it may stay cached for good (LRU-bounded)
      keys.set(keyId, entry, entry.state === 'shredded' ? Number.POSITIVE_INFINITY : ttl);
      return entry;
    });
  }

  function open(subject: string, eventId: string, blob: Uint8Array, keyId: string, entry: KeyEntry | 'foreign' | undefined): DetailsDecryptResult {
    if (!entry) return { status: 'unreadable', reason: 'unknown-key', keyId };
    if (entry === 'foreign') return { status: 'unreadable', reason: 'wrong-subject', keyId };
    if (entry.state === 'shredded') return { status: 'shredded', keyId, shreddedAt: entry.shreddedAt, cause: entry.cause };
    try {
      return { status: 'ok', keyId, details: decryptDetails({ id: keyId, key: entry.key }, blob, { eventId, subject }) };
    } catch (e) {
      if (isSporbarError(e, 'SPB_ERR_MALFORMED_BODY')) return { status: 'unreadable', reason: 'authentication-failed', keyId };
      throw e;
    }
  }

  async function decryptMany(requests: readonly DecryptRequest[]): Promise<DetailsDecryptResult[]> {
    const results = new Array<DetailsDecryptResult>(requests.length);
    const named: Array<{ readonly i: number; readonly keyId: string }> = [];
    for (const [i, r] of requests.entries()) {
      checkSubject(r.subject);
      try {
        named.push({ i, keyId: readDetailsKeyId(r.blob) });
      } catch {
        results[i] = { status: 'unreadable', reason: 'malformed' };
      }
    }
    // Tombstones never come back to life: only the other key ids need asking about.
    const cached = new Map<string, KeyEntry>();
    const ask = new Set<string>();
    const load = new Set<string>();
    for (const { keyId } of named) {
      const hit = keys.get(keyId);
      if (hit) cached.set(keyId, hit);
      if (hit?.state === 'shredded') continue;
      ask.add(keyId);
      if (!hit) load.add(keyId);
    }
    // What the table says now: the shredded among the cached, every row of the not cached.
    const fresh = new Map<string, KeyEntry>();
    if (ask.size > 0) {
      const epoch = shredEpoch;
      const { rows } = await db.query<KeyRow>(
        `SELECT key_id, subject, master_key_id, shredded_at, shred_cause, CASE WHEN key_id = ANY($2::text[]) THEN wrapped END AS wrapped
         FROM ${t} WHERE key_id = ANY($1::text[]) AND (shredded_at IS NOT NULL OR key_id = ANY($2::text[]))`,
        [[...ask], [...load]],
      );
      for (const row of rows) {
        const entry = entryOf(row);
        fresh.set(row.key_id, entry);
        if (entry.state === 'shredded') {
          keys.set(row.key_id, entry, Number.POSITIVE_INFINITY);
          if (current.get(row.subject) === row.key_id) current.delete(row.subject);
        } else if (shredEpoch === epoch) {
          keys.set(row.key_id, entry, ttl); // no shred by this store overlapped the read
        }
      }
    }
    for (const { i, keyId } of named) {
      const { subject, eventId, blob } = requests[i]!;
      // A cached live key the query did not name shredded is live (rows are never deleted).
      const entry = fresh.get(keyId) ?? cached.get(keyId);
      if (!load.has(keyId)) hits++;
      results[i] = open(subject, eventId, blob, keyId, entry && entry.subject !== subject ? 'foreign' : entry);
    }
    misses += load.size;
    return results;
  }

  async function prepare(subjects: Iterable<string>): Promise<void> {
    const wanted: string[] = [];
    for (const s of new Set(subjects)) {
      checkSubject(s);
      if (cachedLive(s)) hits++;
      else wanted.push(s);
    }
    if (wanted.length === 0) return;
    misses += wanted.length;
    const epoch = shredEpoch;
    const live = new Map<string, DataKey>();
    const select = async (list: string[]) => {
      const { rows } = await db.query<KeyRow>(`SELECT ${selectColumns} FROM ${t} WHERE subject = ANY($1::text[]) AND shredded_at IS NULL`, [list]);
      for (const row of rows) live.set(row.subject, { id: row.key_id, key: unwrap(row) });
    };
    await select(wanted);
    const missing = wanted.filter((s) => !live.has(s));
    if (missing.length > 0) {
      const fresh = newDataKeys(missing.length);
      const created = missing.map((subject, i) => {
        const { id, key } = fresh[i]!;
        return { subject, id, key, wrapped: wrapDataKey(master, key, { keyId: id, subject }).toString('hex') };
      });
      // Text arrays (hex for the wrapped keys) bind the same way on pg and PGlite.
      const inserted = await db.query<{ key_id: string }>(
        `INSERT INTO ${t} (key_id, subject, wrapped, master_key_id)
         SELECT k, s, decode(w, 'hex'), $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, s, w)
         ON CONFLICT (subject) WHERE shredded_at IS NULL DO NOTHING RETURNING key_id`,
        [created.map((c) => c.id), created.map((c) => c.subject), created.map((c) => c.wrapped), master.id],
      );
      const won = new Set(inserted.rows.map((r) => r.key_id));
      for (const c of created) if (won.has(c.id)) live.set(c.subject, { id: c.id, key: c.key });
      const lost = created.filter((c) => !won.has(c.id)).map((c) => c.subject);
      if (lost.length > 0) await select(lost); // another process created these first: use theirs
    }
    if (shredEpoch !== epoch) return; // a shred ran meanwhile: let the per-subject path decide
    for (const [subject, k] of live) {
      keys.set(k.id, { state: 'live', subject, key: k.key }, ttl);
      current.set(subject, k.id, ttl);
    }
  }

  return {
    async dataKeyFor(subject) {
      checkSubject(subject);
      const k = await liveKey(subject);
      return { id: k.id, key: Buffer.from(k.key) }; // a copy: callers cannot damage the cache
    },

    prepare,

    async encrypt(subject, eventId, details) {
      checkSubject(subject);
      return encryptDetails(await liveKey(subject), details, { eventId, subject });
    },

    async decrypt(subject, eventId, blob) {
      checkSubject(subject);
      let keyId: string;
      try {
        keyId = readDetailsKeyId(blob);
      } catch {
        return { status: 'unreadable', reason: 'malformed' };
      }
      return open(subject, eventId, blob, keyId, await entryByKeyId(subject, keyId));
    },

    decryptMany,

    async shred(subject, cause, shredOptions = {}) {
      checkSubject(subject);
      if (!ShredCauseValues.includes(cause)) throw new SporbarError('SPB_ERR_SCHEMA_INVALID', `shred cause must be one of ${ShredCauseValues.join(', ')}`);
      const causation = shredOptions.causationEventId ?? null;
      shredEpoch++;
      return withLock(subject, async () => {
        try {
          const done = await db.query<{ key_id: string }>(
            `UPDATE ${t} SET wrapped = NULL, shredded_at = now(), shred_cause = $2, shred_causation = $3
             WHERE subject = $1 AND shredded_at IS NULL RETURNING key_id`,
            [subject, cause, causation],
          );
          const ids = new Set(done.rows.map((r) => r.key_id));
          if (causation !== null) {
            const earlier = await db.query<{ key_id: string }>(
              `SELECT key_id FROM ${t} WHERE shred_causation = $2 AND subject = $1`,
              [subject, causation],
            );
            for (const r of earlier.rows) ids.add(r.key_id);
          }
          return [...ids].sort();
        } finally {
          shredEpoch++; // at start and end: a bulk load that overlaps any part of a shred caches nothing
          current.delete(subject);
          keys.deleteWhere((e) => e.subject === subject);
        }
      });
    },

    async liveScopes(pseudonym) {
      if (typeof pseudonym !== 'string' || !PSEUDONYM_PATTERN.test(pseudonym)) {
        throw new SporbarError('SPB_ERR_SCHEMA_INVALID', 'liveScopes takes a subject pseudonym (psn_<keyId>_<hash>), not a key scope');
      }
      const { rows } = await db.query<{ subject: string }>(
        // The pseudonym and its 'psn_….activity' scopes, as a range of the live-key index (C order: '.' < '/').
        `SELECT subject FROM ${t} WHERE subject >= $1 AND subject < $2 AND shredded_at IS NULL AND (subject = $1 OR starts_with(subject, $1 || '.')) ORDER BY subject`,
        [pseudonym, `${pseudonym}/`],
      );
      return rows.map((r) => r.subject);
    },

    async rotateMaster(newMasterKey) {
      addToKeyring(newMasterKey);
      master = newMasterKey; // keys created from now on use the new master
      let rewrapped = 0;
      let after = '';
      for (;;) {
        const batch = await db.query<KeyRow>(
          `SELECT ${selectColumns} FROM ${t} WHERE wrapped IS NOT NULL AND master_key_id IS DISTINCT FROM $1 AND key_id > $2 ORDER BY key_id LIMIT ${ROTATION_BATCH}`,
          [newMasterKey.id, after],
        );
        if (batch.rows.length > 0) {
          // One UPDATE per batch (a round trip per key made 20,000 keys take minutes), each row a
          // compare-and-set: a row shredded meanwhile (wrapped IS NULL) or re-wrapped by another run
          // (its master changed) is left alone, never given a key again.
          const params: unknown[] = [newMasterKey.id];
          const values = batch.rows.map((row) => {
            const wrapped = wrapDataKey(newMasterKey, unwrap(row), { keyId: row.key_id, subject: row.subject });
            params.push(row.key_id, wrapped, row.master_key_id);
            const n = params.length;
            return `($${n - 2}::text, $${n - 1}::bytea, $${n}::text)`;
          });
          const updated = await db.query<{ key_id: string }>(
            `UPDATE ${t} AS k SET wrapped = v.wrapped, master_key_id = $1 FROM (VALUES ${values.join(', ')}) AS v(key_id, wrapped, old_master)
             WHERE k.key_id = v.key_id AND k.master_key_id = v.old_master AND k.wrapped IS NOT NULL RETURNING k.key_id`,
            params,
          );
          rewrapped += updated.rows.length;
          after = batch.rows.at(-1)!.key_id;
        }
        if (batch.rows.length < ROTATION_BATCH) break;
      }
      return { rewrapped, masterKeyId: newMasterKey.id };
    },

    get masterKeyId() {
      return master.id;
    },

    cacheStats: () => ({ size: keys.size, hits, misses }),
  };
}
