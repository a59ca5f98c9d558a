import pg from 'pg';
import { migrate, type MigrationSet } from '@sporbar/common/migrate';
import { pgPoolSqlClient, type SqlClient } from '@sporbar/common/sql';

/**
 * The witness's state in PostgreSQL: per log origin, the last checkpoint it cosigned (size, root, and
 * the note as it serves it: the checkpoint text, the log's verified signatures and its own
 * cosignature), plus the evidence of refused checkpoints that carried a valid log signature.
 *
 * The update is a compare-and-swap in one statement: `UPDATE … WHERE origin = $1 AND tree_size = <the
 * size it checked> AND root_hash = <the root it checked>` (or `INSERT … ON CONFLICT DO NOTHING` for a
 * log never seen). Of two requests from the same old size at most one matches; the other sees 0 rows
 * and re-reads. This holds across processes and replicas sharing the table, and PostgreSQL makes
 * it durable (WAL, fsync) before the COMMIT returns, i.e. before the witness answers.
 */

export interface StoredCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
  /** The cosigned note: text, blank line, the log's verified signature lines and the witness's cosignature. */
  readonly note: string;
}

export interface Evidence {
  readonly origin: string;
  readonly oldSize: number;
  readonly proof: readonly Buffer[];
  /** The submitted note, exactly as received (its log signature verified). */
  readonly note: Buffer;
  readonly reason: string;
}

export interface CheckpointStore {
  get(origin: string): Promise<StoredCheckpoint | undefined>;
  /**
   * Stores `next` if the log's current state is still `expected` (undefined: no checkpoint yet).
   * Returns whether it did.
   */
  compareAndSwap(expected: { readonly size: number; readonly root: Buffer } | undefined, next: StoredCheckpoint): Promise<boolean>;
  /** Keeps a refused, validly signed checkpoint: it may prove the log misbehaved. */
  recordEvidence(evidence: Evidence): Promise<void>;
  /** Throws when the database cannot be reached (the /ready check). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const witnessMigrations: MigrationSet = {
  historyTable: 'witness_migrations',
  migrations: [
    {
      version: 1,
      name: 'checkpoints and evidence',
      sql: (s) => `
        CREATE TABLE ${s}.witness_checkpoints (
          origin     text        PRIMARY KEY,
          tree_size  bigint      NOT NULL CHECK (tree_size >= 0),
          root_hash  bytea       NOT NULL CHECK (octet_length(root_hash) = 32),
          note       text        NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE ${s}.witness_evidence (
          id          bigserial   PRIMARY KEY,
          origin      text        NOT NULL,
          old_size    bigint      NOT NULL,
          proof       text        NOT NULL,
          note        bytea       NOT NULL,
          reason      text        NOT NULL,
          received_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ON ${s}.witness_evidence (origin, received_at);`,
    },
  ],
};

interface Row {
  origin: string;
  tree_size: string;
  root_hash: Buffer;
  note: string;
}

/** The store on a PostgreSQL database, in `schema` (created and migrated here). */
export async function openPostgresStore(connectionString: string, schema: string, options: { readonly poolSize?: number } = {}): Promise<CheckpointStore> {
  // synchronous_commit=on whatever the server's default: a COMMIT (hence an answer) only once the WAL is flushed.
  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 5, options: '-c synchronous_commit=on' });
  pool.on('error', () => undefined); // an idle client's error: the next query fails and says why
  const sql: SqlClient = pgPoolSqlClient(pool);
  try {
    await migrate(sql, schema, witnessMigrations);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const table = `${schema}.witness_checkpoints`;
  return {
    async get(origin) {
      const [row] = await sql.query<Row>(`SELECT origin, tree_size, root_hash, note FROM ${table} WHERE origin = $1`, [origin]);
      return row && { origin: row.origin, size: Number(row.tree_size), root: row.root_hash, note: row.note };
    },
    async compareAndSwap(expected, next) {
      const rows = expected
        ? await sql.query(
            `UPDATE ${table} SET tree_size = $2, root_hash = $3, note = $4, updated_at = now()
              WHERE origin = $1 AND tree_size = $5 AND root_hash = $6 RETURNING origin`,
            [next.origin, next.size, next.root, next.note, expected.size, expected.root],
          )
        : await sql.query(
            `INSERT INTO ${table} (origin, tree_size, root_hash, note) VALUES ($1, $2, $3, $4)
              ON CONFLICT (origin) DO NOTHING RETURNING origin`,
            [next.origin, next.size, next.root, next.note],
          );
      return rows.length === 1;
    },
    async recordEvidence(e) {
      await sql.query(`INSERT INTO ${schema}.witness_evidence (origin, old_size, proof, note, reason) VALUES ($1, $2, $3, $4, $5)`, [
        e.origin,
        e.oldSize,
        e.proof.map((h) => h.toString('base64')).join('\n'),
        e.note,
        e.reason,
      ]);
    },
    async ping() {
      await sql.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}
