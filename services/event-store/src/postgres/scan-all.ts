import { asUint8Array } from '../validate.ts';
import type { ScanAllOptions, ScannedEvent } from '../port.ts';
import type { SqlExecutor } from '@sporbar/common/sql';

/** The columns a 'leaf' scan needs; a 'full' scan adds the rest. Bigints travel as text. */
const LEAF_COLUMNS = 'e.global_position::text AS global_position, e.event_id::text AS event_id, e.data';
const FULL_COLUMNS = `${LEAF_COLUMNS}, e.event_type, e.stream_name, e.recorded_at, e.metadata`;

interface ScanRow {
  global_position: string;
  event_id: string;
  data: Uint8Array;
  event_type?: string;
  stream_name?: string;
  recorded_at?: Date | string;
  metadata?: Record<string, string> | string | null;
}

/** The placeholders of the columns a 'leaf' scan skips. */
export const SKIPPED = { type: '', streamName: '', metadata: Object.freeze({}) as Readonly<Record<string, string>> } as const;

/**
 * One keyset page of the global log for `scanAll`: events with after < position <= upTo, in order.
 * The same argument as readAllBatch makes the pages a complete continuation (see append.ts).
 */
export async function scanAllPage(
  db: SqlExecutor,
  schema: string,
  after: bigint,
  upTo: bigint | undefined,
  limit: number,
  columns: 'full' | 'leaf',
): Promise<ScannedEvent[]> {
  const bound = upTo === undefined ? '' : ' AND e.global_position <= $3';
  const rows = await db.query<ScanRow>(
    `SELECT ${columns === 'leaf' ? LEAF_COLUMNS : FULL_COLUMNS} FROM ${schema}.events e
      WHERE e.global_position > $1${bound} ORDER BY e.global_position LIMIT $2`,
    upTo === undefined ? [after.toString(), limit] : [after.toString(), limit, upTo.toString()],
  );
  const epoch = new Date(0);
  return rows.map((r) => ({
    position: BigInt(r.global_position),
    eventId: r.event_id,
    data: asUint8Array(r.data),
    type: r.event_type ?? SKIPPED.type,
    streamName: r.stream_name ?? SKIPPED.streamName,
    recordedAt: r.recorded_at === undefined ? epoch : r.recorded_at instanceof Date ? r.recorded_at : new Date(r.recorded_at),
    metadata: r.metadata === undefined ? SKIPPED.metadata : typeof r.metadata === 'string' ? JSON.parse(r.metadata) : (r.metadata ?? {}),
  }));
}

/** The number of events a scan may still hand over: maxCount as a count (Infinity when unbounded). */
export function scanLimit(options: ScanAllOptions | undefined): number {
  const max = options?.maxCount;
  return max === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(max));
}

/**
 * `scanAll` over keyset pages: one page in memory at a time, each event handed to `onEvent` and a
 * returned promise awaited before the next one.
 */
export async function scanAllPaged(
  page: (after: bigint, limit: number) => Promise<readonly ScannedEvent[]>,
  onEvent: (event: ScannedEvent) => void | Promise<void>,
  options: ScanAllOptions | undefined,
  pageSize: number,
): Promise<void> {
  let remaining = scanLimit(options);
  let after = options?.after ?? 0n;
  while (remaining > 0) {
    const limit = Math.min(pageSize, remaining);
    const events = await page(after, limit);
    for (const e of events) {
      const pending = onEvent(e);
      if (pending) await pending;
    }
    remaining -= events.length;
    const last = events.at(-1);
    if (events.length < limit || !last) return;
    after = last.position;
  }
}
