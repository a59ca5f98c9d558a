import type { SqlExecutor } from '@sporbar/common/sql';

/** The committed counter: every position <= it is committed and visible (see append.ts). */
export async function headPosition(db: SqlExecutor, schema: string): Promise<bigint> {
  const rows = await db.query<{ last: string }>(`SELECT last::text AS last FROM ${schema}.positions WHERE id = 1`);
  return BigInt(rows[0]?.last ?? '0');
}
