import type { ErrorCode } from '@sporbar/common/errors';

/** A message the ingest could not accept, kept with the reason so it can be fixed and re-driven. */
export interface DeadLetter {
  readonly reasonCode: ErrorCode;
  /** Why, in words. Never contains personal data: codec and seal errors do not echo values. */
  readonly reason: string;
  readonly original: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly receivedAt: Date;
  /** Where it came from (topic/partition/offset, or 'in-process'). */
  readonly origin: string;
}

export interface DeadLetterSink {
  put(letters: readonly DeadLetter[]): Promise<void>;
}

interface Sql {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

export const DEAD_LETTER_DDL = `
CREATE TABLE IF NOT EXISTS dead_letters (
  id bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL,
  origin text NOT NULL,
  reason_code text NOT NULL,
  reason text NOT NULL,
  headers jsonb NOT NULL,
  original bytea NOT NULL,
  redriven_at timestamptz
)`;

/** Dead letters in a SQL table (PGlite in the embedded default; the Kafka ingest uses a DLQ topic). */
export async function createSqlDeadLetterSink(db: Sql): Promise<DeadLetterSink & { count(): Promise<number> }> {
  await db.query(DEAD_LETTER_DDL);
  return {
    async put(letters) {
      for (const l of letters) {
        await db.query('INSERT INTO dead_letters (received_at, origin, reason_code, reason, headers, original) VALUES ($1, $2, $3, $4, $5, $6)', [
          l.receivedAt,
          l.origin,
          l.reasonCode,
          l.reason,
          JSON.stringify(l.headers),
          l.original,
        ]);
      }
    },
    async count() {
      const { rows } = await db.query('SELECT count(*)::int AS n FROM dead_letters WHERE redriven_at IS NULL');
      return (rows[0] as { n: number }).n;
    },
  };
}
