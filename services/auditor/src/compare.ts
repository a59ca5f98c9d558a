import { exportedEvents } from './export.ts';
import type { LogRow, LogSource } from './log/source.ts';

/**
 * `compare <export>`: the store against an export, leaf by leaf. An export (checked with
 * `verify --file`) holds, for each event, its leaf index, position, eventId and stored bytes; the store
 * must hold the same at the same leaf index. The first leaf that differs is named with its position,
 * and what differs: the event (inserted, deleted or moved), the position (renumbered) or the bytes
 * (from which byte). One pass over each: the export is read as the store is scanned.
 */
export interface CompareDifference {
  readonly leafIndex: number;
  /** The store's position of that leaf, or the export's when the store has no such leaf. */
  readonly position: bigint;
  readonly eventId: string;
  readonly kind: 'event' | 'position' | 'bytes' | 'missing';
  readonly message: string;
}

export interface CompareResult {
  readonly same: boolean;
  /** Exported events compared with the store. */
  readonly compared: number;
  /** Leaves that differ (all of them, the first is in `first`). */
  readonly differing: number;
  readonly first?: CompareDifference;
  readonly fromIndex?: number;
  readonly toIndex?: number;
}

type Exported = { position: bigint; leafIndex: number; eventId: string; storedBytes: Buffer };

/** Why a store row differs from the exported event at the same leaf index, or undefined. */
export function leafDifference(row: Pick<LogRow, 'position' | 'eventId' | 'data'>, e: Exported): CompareDifference | undefined {
  const data = Buffer.from(row.data);
  const at = { leafIndex: e.leafIndex, position: row.position, eventId: row.eventId };
  if (row.eventId.toLowerCase() !== e.eventId.toLowerCase()) {
    return { ...at, kind: 'event', message: `the store holds event ${row.eventId} at leaf index ${e.leafIndex} / position ${row.position}, the export event ${e.eventId} (position ${e.position}): an event was inserted, deleted or moved at or before it` };
  }
  if (!data.equals(e.storedBytes)) {
    let i = 0;
    while (i < data.length && i < e.storedBytes.length && data[i] === e.storedBytes[i]) i++;
    const length = data.length !== e.storedBytes.length ? `; ${data.length} bytes in the store, ${e.storedBytes.length} in the export` : '';
    return { ...at, kind: 'bytes', message: `the stored bytes of event ${row.eventId} at leaf index ${e.leafIndex} / position ${row.position} differ from the export's from byte ${i}${length}` };
  }
  if (row.position !== e.position) {
    return { ...at, kind: 'position', message: `event ${row.eventId} at leaf index ${e.leafIndex} has the same bytes but position ${row.position} in the store, ${e.position} in the export: the positions were renumbered` };
  }
  return undefined;
}

export async function compareExport(options: { source: LogSource; path: string }): Promise<CompareResult> {
  // First the export's extent, so the store is scanned no further than the last exported leaf.
  let fromIndex: number | undefined;
  let toIndex = -1;
  let previous = -1;
  for await (const e of exportedEvents(options.path)) {
    if (e.leafIndex <= previous) throw new Error(`the export is not in leaf order: leaf index ${e.leafIndex} after ${previous}`);
    fromIndex ??= e.leafIndex;
    toIndex = previous = e.leafIndex;
  }
  if (fromIndex === undefined) return { same: true, compared: 0, differing: 0 };

  const events = exportedEvents(options.path);
  let pending: Exported | undefined = (await events.next()).value ?? undefined;
  let compared = 0;
  let differing = 0;
  let first: CompareDifference | undefined;
  let index = 0;
  let lastRow: { position: bigint; index: number } | undefined;
  try {
    await options.source.scan(
      async (row) => {
        const i = index++;
        lastRow = { position: row.position, index: i };
        if (!pending || pending.leafIndex !== i) return;
        compared++;
        const d = leafDifference(row, pending);
        if (d) {
          differing++;
          first ??= d;
        }
        const next = await events.next();
        pending = next.done ? undefined : next.value;
      },
      { columns: 'leaf', maxCount: toIndex + 1 },
    );
    // Exported leaves the store does not have (its tail was cut).
    while (pending) {
      compared++;
      differing++;
      first ??= {
        leafIndex: pending.leafIndex,
        position: pending.position,
        eventId: pending.eventId,
        kind: 'missing',
        message: `the export holds event ${pending.eventId} at leaf index ${pending.leafIndex} / position ${pending.position}, but the store ends at ${lastRow ? `leaf index ${lastRow.index} / position ${lastRow.position}` : 'nothing (it is empty)'}: events were deleted from the store's tail`,
      };
      const next = await events.next();
      pending = next.done ? undefined : next.value;
    }
  } finally {
    await events.return(undefined);
  }
  return { same: differing === 0, compared, differing, fromIndex, toIndex, ...(first ? { first } : {}) };
}

export function formatCompare(r: CompareResult, path: string): string {
  if (r.compared === 0) return `SAME: the export ${path} holds no events`;
  const extent = `leaf index ${r.fromIndex}..${r.toIndex}`;
  if (r.same) return `SAME: the store holds the ${r.compared} exported event(s) of ${path} (${extent}) byte for byte, at the same leaf indexes and positions`;
  return `DIFFERS: first differing position ${r.first!.position} (leaf index ${r.first!.leafIndex}): ${r.first!.message}; ${r.differing} of the ${r.compared} exported leaves (${extent}) differ`;
}
