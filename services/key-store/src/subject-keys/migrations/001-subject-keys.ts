import { ShredCauseValues } from '@sporbar/schemas';

/**
 * 001: the subject key table as the last version's start-up DDL (`ensureSchema`) left it, made so
 * that it also adopts a table an earlier version made: every statement is idempotent (IF NOT EXISTS,
 * IF EXISTS, a guarded ALTER), so a database that already has the table keeps every row and is only
 * brought to this layout.
 *
 * Two indexes: the primary key (key ids grow with time, so new keys go to its right edge) and the
 * partial unique index of live keys by scope, which also answers "the live scopes of a pseudonym"
 * as a range: `subject` is C-collated, so `psn_….` sorts between the pseudonym and the pseudonym
 * followed by '/'. A small partial index finds the keys an erasure shredded (for a retried one).
 *
 * From earlier layouts: the plain index on subject (`_by_subject`), the expression indexes on the
 * pseudonym (`_by_pseudonym`, and `_live_by_pseudonym`, which a later layout stopped making but never
 * dropped) are dropped, and a `subject` in the database's collation becomes C-collated (which
 * rebuilds the live-key index, once).
 */
export const name = 'subject-keys';

export const sql = (schema: string, table: string): string => {
  const t = `${schema}.${table}`;
  return `
CREATE TABLE IF NOT EXISTS ${t} (
  key_id text PRIMARY KEY,
  subject text COLLATE "C" NOT NULL,
  wrapped bytea,
  master_key_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  shredded_at timestamptz,
  shred_cause text,
  shred_causation text,
  CHECK ((wrapped IS NULL) = (shredded_at IS NOT NULL)),
  CHECK ((shred_cause IS NULL) = (shredded_at IS NULL)),
  CHECK (shred_cause IN (${ShredCauseValues.map((c) => `'${c}'`).join(', ')}))
);
DROP INDEX IF EXISTS ${schema}.${table}_by_pseudonym;
DROP INDEX IF EXISTS ${schema}.${table}_live_by_pseudonym;
DROP INDEX IF EXISTS ${schema}.${table}_by_subject;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
             WHERE a.attrelid = '${t}'::regclass AND a.attname = 'subject' AND c.collname <> 'C') THEN
    ALTER TABLE ${t} ALTER COLUMN subject TYPE text COLLATE "C";
  END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS ${table}_one_live_key ON ${t} (subject) WHERE shredded_at IS NULL;
CREATE INDEX IF NOT EXISTS ${table}_by_shred_causation ON ${t} (shred_causation) WHERE shred_causation IS NOT NULL;
`;
};
