import type { RecordedEvent } from '../port.ts';
import type { SqlExecutor } from '@sporbar/common/sql';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.ts';

/**
 * One batch of the global log: keyset pagination on the primary key, never OFFSET, never the whole
 * log. Complete and gap-safe because positions are assigned in commit order (see append.ts).
 */
export async function readAllBatch(
  db: SqlExecutor,
  schema: string,
  after: bigint,
  limit: number,
): Promise<RecordedEvent[]> {
  const rows = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM ${schema}.events e WHERE e.global_position > $1 ORDER BY e.global_position LIMIT $2`,
    [after.toString(), limit],
  );
  return rows.map(toRecordedEvent);
}

/** Streams the global log batch by batch; memory stays at one batch. */
export async function* readAllPaged(
  batch: (after: bigint, limit: number) => Promise<readonly RecordedEvent[]>,
  after: bigint,
  batchSize: number,
  maxCount: number,
): AsyncGenerator<RecordedEvent> {
  let remaining = maxCount;
  let checkpoint = after;
  while (remaining > 0) {
    const limit = Math.min(batchSize, remaining);
    const events = await batch(checkpoint, limit);
    for (const e of events) yield e;
    remaining -= events.length;
    const last = events.at(-1);
    if (events.length < limit || !last) return;
    checkpoint = last.globalPosition;
  }
}
