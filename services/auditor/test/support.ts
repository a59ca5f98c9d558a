import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createPgliteEventStore, createPostgresEventStore, type EventStore } from '@sporbar/event-store';
import { createCodec, createDisclosureJudge, register, type Codec, type DisclosureRecorded } from '@sporbar/schemas';
import { CHECKPOINT_STREAM, storeLogSource, type LogSource } from '../src/log/source.ts';
import { ORIGIN_METADATA_KEY, signCheckpointEvent } from '../src/checkpoint/checkpoint-event.ts';
import { generateSigningKey, logOrigin, type SigningKey } from '../src/checkpoint/signed-tree-head.ts';
import { CompactRange } from '../src/merkle/compact-range.ts';
import { randomSchema } from '../../event-store/test/support/postgres.ts';
import { storeTables } from '../../event-store/test/support/tables.ts';

export const codec: Codec = createCodec();
export const ORIGIN = logOrigin('test-log');

const RECIPIENTS = [
  { id: 'danish-tax-authority', role: 'PUBLIC_AUTHORITY' },
  { id: 'kmd', role: 'PROCESSOR' },
] as const;

/** A valid DisclosureRecorded (the shape the projections read), varied by i. */
export function disclosure(i: number, occurredAtMicros = 1_764_000_000_000_000 + i * 1_000_000): DisclosureRecorded {
  const r = RECIPIENTS[i % RECIPIENTS.length]!;
  return {
    eventId: randomUUID(),
    occurredAt: occurredAtMicros,
    sourceSystem: 'nemkonto',
    controllerCvr: '34051178',
    activity: 'nemkonto-register',
    subject: { scheme: 'PSEUDONYM', value: `psn_k1_${String(i % 7).padStart(43, 'a')}` },
    recipient: { id: r.id, role: r.role },
    purpose: 'nemkonto-payments',
    legalBases: ['LBK_494_2023', 'GDPR_ART6_1_E'],
    dataCategories: ['transaction-history'],
    transfer: null,
    personalDetails: null,
    correlationId: `payment-${i}`,
  } as DisclosureRecorded;
}

/** The classification an ingest with one fixed register stores (no notice version named): what the replay judges again. */
const judge = createDisclosureJudge(register);

export const toAppend = (d: DisclosureRecorded) => ({
  eventId: d.eventId,
  type: 'DisclosureRecorded',
  data: codec.encode('DisclosureRecorded', d),
  metadata: { ...judge(d), producer: 'mitid-core' },
});

export async function appendDisclosures(store: EventStore, from: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) {
    const d = disclosure(i);
    ids.push(d.eventId);
    await store.append(`subject-${d.subject.value}`, [toAppend(d)]);
  }
  return ids;
}

export interface WrittenLog {
  readonly key: SigningKey;
  /** Checkpoint notes in order. */
  readonly checkpoints: { treeSize: number; text: string; position: bigint; eventId: string }[];
  /** eventId of each leaf in order (index = leaf index); positions are index + 1. */
  readonly leaves: string[];
}

/**
 * A log of `chunks` × `every` disclosures with a signed checkpoint after each chunk (written directly,
 * not by the checkpointer, so the layout is exact), then `tail` uncovered events. With every = 10:
 * checkpoint k (1-based) is leaf 11k-1, at position 11k, and certifies 11k-1 leaves.
 */
export async function writeLog(store: EventStore, options: { every?: number; chunks?: number; tail?: number; key?: SigningKey } = {}): Promise<WrittenLog> {
  const every = options.every ?? 10;
  const key = options.key ?? generateSigningKey();
  const range = new CompactRange();
  const leaves: string[] = [];
  const checkpoints: WrittenLog['checkpoints'] = [];
  let n = 0;
  const add = async (stream: string, e: { eventId: string; type: string; data: Buffer; metadata: Record<string, string> }) => {
    const r = await store.append(stream, [e]);
    range.appendLeaf(e.data);
    leaves.push(e.eventId);
    return r.lastPosition;
  };
  for (let c = 0; c < (options.chunks ?? 6); c++) {
    for (let i = 0; i < every; i++) {
      const d = disclosure(n++);
      await add(`subject-${d.subject.value}`, toAppend(d));
    }
    const { event, text } = signCheckpointEvent({ origin: ORIGIN, treeSize: range.size, rootHash: range.root() }, key);
    const position = await add(CHECKPOINT_STREAM, { eventId: event.eventId, type: 'CheckpointSigned', data: codec.encode('CheckpointSigned', event), metadata: { [ORIGIN_METADATA_KEY]: ORIGIN } });
    checkpoints.push({ treeSize: event.treeSize, text, position, eventId: event.eventId });
  }
  for (let i = 0; i < (options.tail ?? 3); i++) {
    const d = disclosure(n++);
    await add(`subject-${d.subject.value}`, toAppend(d));
  }
  return { key, checkpoints, leaves };
}

/** A store, the auditor's source over it and raw SQL on its tables, on PGlite or PostgreSQL. */
export interface TestLog {
  readonly store: EventStore;
  readonly source: LogSource;
  readonly schema: string;
  /** Raw SQL behind the store's back; `{events}` and `{positions}` stand for its tables (event-store's storeTables). */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const withTables = (text: string, schema: string): string => {
  const t = storeTables(schema);
  return text.replaceAll('{events}', t.events).replaceAll('{positions}', t.positions);
};

export async function pgliteTestLog(db: PGlite): Promise<TestLog> {
  const schema = randomSchema();
  const store = await createPgliteEventStore({ db, schema });
  return {
    store,
    schema,
    source: storeLogSource(store),
    sql: async (text, params) => (await db.query<Record<string, unknown>>(withTables(text, schema), params)).rows,
    close: async () => {
      await store.close();
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

export async function postgresTestLog(url: string): Promise<TestLog> {
  const schema = randomSchema();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const store = await createPostgresEventStore({ pool, schema });
  return {
    store,
    schema,
    source: storeLogSource(store),
    sql: async (text, params) => (await pool.query(withTables(text, schema), params)).rows as Record<string, unknown>[],
    close: async () => {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
