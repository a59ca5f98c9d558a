import type { Sql } from '@sporbar/projections';

/** How many retention rules are past their deadline and not yet done (the rows `GET /v1/retention/overdue` lists). */
export async function countOverdue(db: Sql, now: Date, prefix = 'rm_'): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${prefix}retention_schedule WHERE done_at IS NULL AND deadline <= $1`, [now]);
  return Number(rows[0]?.n ?? 0);
}
