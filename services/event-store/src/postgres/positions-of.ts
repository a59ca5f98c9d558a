import type { SqlExecutor } from '@sporbar/common/sql';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Global positions of the given events, by their (lower-case) eventId: one query on the unique event_id index. Ids not stored (or not uuids) are absent. */
export async function positionsOf(db: SqlExecutor, schema: string, eventIds: readonly string[]): Promise<Map<string, bigint>> {
  const ids = [...new Set(eventIds.map((id) => id.toLowerCase()))].filter((id) => UUID.test(id));
  if (ids.length === 0) return new Map();
  // A uuid[] literal (every id checked above): the same text for pg and PGlite.
  const rows = await db.query<{ id: string; position: string }>(
    `SELECT event_id::text AS id, global_position::text AS position FROM ${schema}.events WHERE event_id = ANY($1::uuid[])`,
    [`{${ids.join(',')}}`],
  );
  return new Map(rows.map((r) => [r.id, BigInt(r.position)]));
}
