import { SporbarError } from '../errors.ts';
import type { StreamMetadata } from '../port.ts';
import type { SqlExecutor } from '@sporbar/common/sql';

interface StoredMetadata {
  maxAgeSeconds?: number;
  truncateBefore?: string; // bigint as text
  custom?: Record<string, string>;
}

export function validateStreamMetadata(metadata: StreamMetadata): void {
  const bad = (field: string) =>
    new SporbarError('SPB_ERR_INVALID_EVENT', `Stream metadata field ${field} is invalid.`, { details: { field } });
  if (typeof metadata !== 'object' || metadata === null) throw bad('metadata');
  const { maxAgeSeconds, truncateBefore, custom } = metadata;
  if (maxAgeSeconds !== undefined && (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds <= 0)) throw bad('maxAgeSeconds');
  if (truncateBefore !== undefined && (typeof truncateBefore !== 'bigint' || truncateBefore < 0n)) throw bad('truncateBefore');
  if (custom !== undefined) {
    if (typeof custom !== 'object' || custom === null) throw bad('custom');
    for (const [k, v] of Object.entries(custom)) if (typeof v !== 'string') throw bad(`custom.${k}`);
  }
}

export function toStored(m: StreamMetadata): StoredMetadata {
  const out: StoredMetadata = {};
  if (m.maxAgeSeconds !== undefined) out.maxAgeSeconds = m.maxAgeSeconds;
  if (m.truncateBefore !== undefined) out.truncateBefore = m.truncateBefore.toString();
  if (m.custom !== undefined) out.custom = { ...m.custom };
  return out;
}

export function fromStored(s: StoredMetadata): StreamMetadata {
  return {
    ...(s.maxAgeSeconds !== undefined ? { maxAgeSeconds: s.maxAgeSeconds } : {}),
    ...(s.truncateBefore !== undefined ? { truncateBefore: BigInt(s.truncateBefore) } : {}),
    ...(s.custom !== undefined ? { custom: s.custom } : {}),
  };
}

/** Replaces the stream's metadata (the stream need not have events yet). */
export async function setStreamMetadata(
  db: SqlExecutor,
  schema: string,
  streamName: string,
  metadata: StreamMetadata,
): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.streams (stream_name, metadata) VALUES ($1, $2::jsonb)
     ON CONFLICT (stream_name) DO UPDATE SET metadata = excluded.metadata`,
    [streamName, JSON.stringify(toStored(metadata))],
  );
}

export async function getStreamMetadata(db: SqlExecutor, schema: string, streamName: string): Promise<StreamMetadata> {
  const rows = await db.query<{ metadata: StoredMetadata | string }>(
    `SELECT metadata FROM ${schema}.streams WHERE stream_name = $1`,
    [streamName],
  );
  const m = rows[0]?.metadata;
  if (m === undefined) return {};
  return fromStored(typeof m === 'string' ? JSON.parse(m) : m);
}
