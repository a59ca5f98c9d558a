import type { ReadStreamOptions, RecordedEvent } from '../port.ts';
import type { SqlExecutor } from '@sporbar/common/sql';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.ts';

/**
 * One page of a stream, honouring the stream's truncateBefore. Forwards: revisions >= from,
 * ascending. Backwards: revisions <= from, descending (from = null: the end).
 */
export async function readStreamPage(
  db: SqlExecutor,
  schema: string,
  streamName: string,
  direction: 'forwards' | 'backwards',
  from: bigint | null,
  limit: number,
): Promise<RecordedEvent[]> {
  const truncate = `coalesce((SELECT (st.metadata->>'truncateBefore')::bigint FROM ${schema}.streams st
                               WHERE st.stream_name = $1), 0)`;
  const sql =
    direction === 'forwards'
      ? `SELECT ${EVENT_COLUMNS} FROM ${schema}.events e
          WHERE e.stream_name = $1 AND e.stream_revision >= greatest($2::bigint, ${truncate})
          ORDER BY e.stream_revision LIMIT $3`
      : `SELECT ${EVENT_COLUMNS} FROM ${schema}.events e
          WHERE e.stream_name = $1 AND e.stream_revision <= coalesce($2::bigint, 9223372036854775807)
            AND e.stream_revision >= ${truncate}
          ORDER BY e.stream_revision DESC LIMIT $3`;
  const rows = await db.query<EventRow>(sql, [streamName, from === null ? null : from.toString(), limit]);
  return rows.map(toRecordedEvent);
}

/** Streams a whole stream page by page (keyset on stream_revision). */
export async function* readStreamPaged(
  page: (direction: 'forwards' | 'backwards', from: bigint | null, limit: number) => Promise<RecordedEvent[]>,
  options: ReadStreamOptions | undefined,
  pageSize = 500,
): AsyncGenerator<RecordedEvent> {
  const direction = options?.direction ?? 'forwards';
  let remaining = options?.maxCount ?? Number.POSITIVE_INFINITY;
  let from: bigint | null = options?.fromRevision ?? (direction === 'forwards' ? 0n : null);
  while (remaining > 0) {
    const limit = Math.min(pageSize, remaining);
    const events = await page(direction, from, limit);
    for (const e of events) yield e;
    remaining -= events.length;
    const last = events.at(-1);
    if (events.length < limit || !last) return;
    from = direction === 'forwards' ? last.streamRevision + 1n : last.streamRevision - 1n;
    if (from < 0n) return;
  }
}
