import { asUint8Array } from '../validate.ts';
import type { RecordedEvent } from '../port.ts';

/** The columns every read selects; bigints travel as text so no driver rounds them. */
// Callers must alias the events table as `e` and ORDER BY e.<column>: a bare ORDER BY name would
// resolve to these text aliases and sort as text.
export const EVENT_COLUMNS = `e.global_position::text AS global_position, e.event_id::text AS event_id, e.stream_name,
  e.stream_revision::text AS stream_revision, e.event_type, e.data, e.metadata, e.recorded_at`;

export interface EventRow {
  global_position: string;
  event_id: string;
  stream_name: string;
  stream_revision: string;
  event_type: string;
  data: Uint8Array;
  metadata: Record<string, string> | string | null;
  recorded_at: Date | string;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    type: row.event_type,
    data: asUint8Array(row.data),
    metadata: typeof row.metadata === 'string' ? JSON.parse(row.metadata) : (row.metadata ?? {}),
    streamName: row.stream_name,
    streamRevision: BigInt(row.stream_revision),
    globalPosition: BigInt(row.global_position),
    recordedAt: row.recorded_at instanceof Date ? row.recorded_at : new Date(row.recorded_at),
  };
}
