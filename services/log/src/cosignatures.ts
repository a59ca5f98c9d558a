import pg from 'pg';
import { migrate, type MigrationSet } from '@sporbar/common/migrate';
import { pgPoolSqlClient, type SqlClient } from '@sporbar/common/sql';

/**
 * The witnesses' cosignatures of this log's checkpoints, in PostgreSQL (the log service's own
 * database, `DATABASE_URL`, schema `sporbar_log`): one row per (origin, tree size, root, witness) with
 * the cosignature line(s) the witness answered. The signer writes them; every instance (standbys, a
 * restarted signer) reads them to publish the cosigned checkpoint. Rows are only ever added: a
 * cosignature is public and never wrong to keep; what is published is re-verified on every read.
 */
export interface CosignatureRow {
  readonly treeSize: number;
  /** The 32-byte root the cosigned checkpoint names. */
  readonly rootHash: Buffer;
  /** The witness's name in the policy. */
  readonly witness: string;
  /** The signature line(s) as the witness sent them, without the trailing newline. */
  readonly lines: readonly string[];
}

export interface CosignatureStore {
  /** Keeps a witness's cosignature of a checkpoint (a second copy of the same key is ignored). */
  put(origin: string, row: CosignatureRow): Promise<void>;
  /**
   * The rows of the `limit` largest tree sizes that have any, and of each witness's largest (where a
   * quorum last met when a witness fell behind), largest first.
   */
  newest(origin: string, limit: number): Promise<CosignatureRow[]>;
  /** Per witness, the largest tree size it cosigned. */
  cosignedSizes(origin: string): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/** The schema the table lives in, in the database of `DATABASE_URL`. */
export const COSIGNATURE_SCHEMA = 'sporbar_log';

export const cosignatureMigrations: MigrationSet = {
  historyTable: 'log_migrations',
  migrations: [
    {
      version: 1,
      name: 'witness cosignatures',
      sql: (s) => `
        CREATE TABLE ${s}.witness_cosignatures (
          origin      text        NOT NULL,
          tree_size   bigint      NOT NULL CHECK (tree_size >= 0),
          root_hash   bytea       NOT NULL CHECK (octet_length(root_hash) = 32),
          witness     text        NOT NULL,
          lines       text        NOT NULL,
          received_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (origin, tree_size, root_hash, witness)
        );`,
    },
  ],
};

interface Row {
  tree_size: string;
  root_hash: Buffer;
  witness: string;
  lines: string;
}

export async function openCosignatureStore(connectionString: string, schema: string = COSIGNATURE_SCHEMA): Promise<CosignatureStore> {
  const pool = new pg.Pool({ connectionString, max: 2 });
  pool.on('error', () => undefined); // an idle client's error: the next query fails and says why
  const sql: SqlClient = pgPoolSqlClient(pool);
  try {
    await migrate(sql, schema, cosignatureMigrations);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const table = `${schema}.witness_cosignatures`;
  return {
    async put(origin, row) {
      await sql.query(`INSERT INTO ${table} (origin, tree_size, root_hash, witness, lines) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, [
        origin,
        row.treeSize,
        row.rootHash,
        row.witness,
        row.lines.join('\n'),
      ]);
    },
    async newest(origin, limit) {
      const rows = await sql.query<Row>(
        `SELECT tree_size, root_hash, witness, lines FROM ${table}
          WHERE origin = $1 AND tree_size IN (
            (SELECT DISTINCT tree_size FROM ${table} WHERE origin = $1 ORDER BY tree_size DESC LIMIT $2)
            UNION (SELECT max(tree_size) FROM ${table} WHERE origin = $1 GROUP BY witness))
          ORDER BY tree_size DESC, witness`,
        [origin, limit],
      );
      return rows.map((r) => ({ treeSize: Number(r.tree_size), rootHash: r.root_hash, witness: r.witness, lines: r.lines.split('\n') }));
    },
    async cosignedSizes(origin) {
      const rows = await sql.query<{ witness: string; size: string }>(`SELECT witness, max(tree_size) AS size FROM ${table} WHERE origin = $1 GROUP BY witness`, [origin]);
      return new Map(rows.map((r) => [r.witness, Number(r.size)]));
    },
    close: () => pool.end(),
  };
}
