/*
 * APPEND — and why the global log never skips an event (the sequence-gap problem).
 *
 * The problem: with a plain sequence, writer A takes position 10, writer B takes 11, B commits
 * first. A reader that reads "position > 9" now sees 11, moves its checkpoint to 11, and never sees
 * 10 when A commits a moment later.
 *
 * The technique used here: serialised position assignment. <schema>.append() (the SQL function in
 * migrations/001-initial.ts) starts with
 *     SELECT last FROM <schema>.positions WHERE id = 1 FOR UPDATE
 * and hands out last+1 .. last+n under that row lock, which is held until the transaction ends.
 *   1. B cannot obtain positions until A has committed or rolled back: the positions are assigned
 *      in commit order, by construction.
 *   2. PostgreSQL makes a transaction visible (ProcArrayEndTransaction) before it releases its row
 *      locks, so by the time B can even read the counter, A's rows are visible to every new snapshot.
 *      A reader whose snapshot contains B's rows therefore contains A's rows as well.
 *   3. A rollback also rolls back the counter, so the log has no gaps either.
 * Hence "global_position > checkpoint ORDER BY global_position" is a complete, duplicate-free
 * continuation, for any reader, at any time. (The alternative, the transaction-id horizon of
 * Marten/Emmett, lets writers run in parallel but holds every reader back behind the oldest running
 * transaction in the whole cluster; serialising the single writer path is simpler and easy to prove.)
 * The cost is that appends run one at a time; batching makes up for it (see the benchmark).
 *
 * The same function also checks idempotency (event_id is unique across the store) and the expected
 * revision, under the same lock, in one statement: one append = one transaction, nothing half-written.
 */
import { SporbarError } from '../errors.ts';
import { expectedRevisionToString, type ValidAppend } from '../validate.ts';
import type { AppendResult } from '../port.ts';
import type { SqlExecutor } from '@sporbar/common/sql';

interface AppendRow {
  status: 'ok' | 'duplicate' | 'wrong_revision';
  actual_revision: string;
  next_revision: string;
  last_position: string | null;
  dup_ids: string[] | string;
  dup_positions: string[] | string;
}

export const appendSql = (schema: string): string =>
  `SELECT status, actual_revision::text AS actual_revision, next_revision::text AS next_revision,
          last_position::text AS last_position, dup_ids::text[] AS dup_ids, dup_positions::text[] AS dup_positions
     FROM ${schema}.append($1, $2, $3::uuid[], $4::text[], $5::bytea, $6::int[], $7::jsonb[])`;

export async function appendEvents(
  db: SqlExecutor,
  schema: string,
  streamName: string,
  append: ValidAppend,
): Promise<AppendResult> {
  const { events } = append;
  const rows = await db.query<AppendRow>(appendSql(schema), [
    streamName,
    expectedRevisionToString(append.expectedRevision),
    events.map((e) => e.eventId),
    events.map((e) => e.type),
    concat(events.map((e) => e.data)),
    events.map((e) => e.data.byteLength),
    events.map((e) => e.metadataJson),
  ]);
  const row = rows[0];
  if (!row) throw new Error('append() returned no row');
  const dupIds = textArray(row.dup_ids);
  if (row.status === 'wrong_revision') {
    const actual = BigInt(row.actual_revision);
    throw new SporbarError(
      'SPB_ERR_WRONG_EXPECTED_REVISION',
      `Stream ${streamName} is at ${actual < 0n ? 'no_stream' : actual}, the writer expected ${expectedRevisionToString(append.expectedRevision)}.`,
      {
        details: {
          streamName,
          expected: expectedRevisionToString(append.expectedRevision),
          actual: actual < 0n ? 'no_stream' : actual.toString(),
        },
      },
    );
  }
  const dupSet = new Set(dupIds);
  return {
    nextExpectedRevision: BigInt(row.next_revision),
    lastPosition: BigInt(row.last_position ?? '0'),
    appended: events.map((e) => e.eventId).filter((id) => !dupSet.has(id)),
    duplicates: [...dupIds, ...append.inBatchDuplicates],
  };
}

/** One Buffer (pg sends Buffers as binary parameters: no hex encoding of the payloads). */
const concat = (parts: Uint8Array[]): Buffer => Buffer.concat(parts);

/** pg parses text[] into string[]; PGlite does too, but be lenient with the '{a,b}' literal form. */
function textArray(v: string[] | string | null): string[] {
  if (v === null) return [];
  if (Array.isArray(v)) return v;
  const inner = v.replace(/^\{|\}$/g, '');
  return inner === '' ? [] : inner.split(',');
}

interface ManyRow {
  event_id: string;
  stored: boolean;
  global_position: string;
  stream_name: string;
  stream_revision: string;
}

/**
 * Many streams, all with expectedRevision 'any' (the ingest's batches): one statement, one round
 * trip (migration 002's append_any_many), instead of one call of append() per stream.
 */
export async function appendAnyMany(db: SqlExecutor, schema: string, requests: ReadonlyArray<{ streamName: string; append: ValidAppend }>): Promise<AppendResult[]> {
  const flat = requests.flatMap((r) => r.append.events.map((e) => ({ stream: r.streamName, e })));
  const rows = await db.query<ManyRow>(
    `SELECT event_id::text AS event_id, stored, global_position::text AS global_position, stream_name, stream_revision::text AS stream_revision
       FROM ${schema}.append_any_many($1::text[], $2::uuid[], $3::text[], $4::bytea, $5::int[], $6::jsonb[])`,
    [
      flat.map((f) => f.stream),
      flat.map((f) => f.e.eventId),
      flat.map((f) => f.e.type),
      concat(flat.map((f) => f.e.data)),
      flat.map((f) => f.e.data.byteLength),
      flat.map((f) => f.e.metadataJson),
    ],
  );
  let i = 0;
  const lastRevision = new Map<string, bigint>();
  const perRequest = requests.map((r) => {
    const mine = rows.slice(i, i + r.append.events.length);
    i += r.append.events.length;
    for (const row of mine) if (row.stored) lastRevision.set(r.streamName, BigInt(row.stream_revision));
    return { r, mine };
  });
  return perRequest.map(({ r, mine }) => ({
    // The stream's revision after the whole call (a later request in the batch may add to the same stream).
    nextExpectedRevision: lastRevision.get(r.streamName) ?? BigInt(mine.at(-1)?.stream_revision ?? '-1'),
    lastPosition: mine.reduce((max, row) => (BigInt(row.global_position) > max ? BigInt(row.global_position) : max), 0n),
    appended: mine.filter((row) => row.stored).map((row) => row.event_id),
    duplicates: [...mine.filter((row) => !row.stored).map((row) => row.event_id), ...r.append.inBatchDuplicates],
  }));
}
