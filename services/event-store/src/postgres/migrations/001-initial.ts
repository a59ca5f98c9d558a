import { notifyChannel } from '../client.ts';

/**
 * 001: events, streams, the single-row position counter, and the append function.
 *
 * Positions start at 1, so `after: 0n` means "from the beginning" and an empty store has head 0.
 */
export const name = 'initial';

export const sql = (s: string): string => `
CREATE TABLE ${s}.events (
  global_position bigint      PRIMARY KEY,
  event_id        uuid        NOT NULL,
  stream_name     text        NOT NULL,
  stream_revision bigint      NOT NULL,
  event_type      text        NOT NULL,
  data            bytea       NOT NULL,
  metadata        jsonb       NOT NULL DEFAULT '{}',
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_event_id_key UNIQUE (event_id),
  CONSTRAINT events_stream_key UNIQUE (stream_name, stream_revision)
);

CREATE TABLE ${s}.streams (
  stream_name   text   PRIMARY KEY,
  -- -1: no event yet (the row may exist for metadata only)
  last_revision bigint NOT NULL DEFAULT -1,
  metadata      jsonb  NOT NULL DEFAULT '{}'
);

CREATE TABLE ${s}.positions (
  id   int    PRIMARY KEY CHECK (id = 1),
  last bigint NOT NULL
);
INSERT INTO ${s}.positions (id, last) VALUES (1, 0);

${appendFunction(s)}
`;

/*
 * GLOBAL ORDER: serialised position assignment. The full argument is at the top of ../append.ts:
 * the single row of <schema>.positions is locked FOR UPDATE by every append and held until COMMIT,
 * so position order = commit order and a keyset reader can never skip a late committer.
 */
function appendFunction(s: string): string {
  return `
CREATE FUNCTION ${s}.append(
  p_stream   text,
  p_expected text,      -- 'any' | 'no_stream' | 'stream_exists' | a revision as text
  p_ids      uuid[],
  p_types    text[],
  p_data     bytea,       -- every event's data, concatenated (one binary parameter, no hex text)
  p_lengths  int[],       -- byte length of each event's data in p_data
  p_metadata jsonb[]
) RETURNS TABLE (
  status          text,      -- 'ok' | 'duplicate' (all were stored already) | 'wrong_revision'
  actual_revision bigint,    -- the stream's revision before this append (-1: no stream)
  next_revision   bigint,
  last_position   bigint,
  dup_ids         uuid[],
  dup_positions   bigint[]
) LANGUAGE plpgsql AS $fn$
DECLARE
  v_last    bigint;
  v_rev     bigint;
  v_dup_ids uuid[];
  v_dup_pos bigint[];
  v_new     int;
  v_expected_ok boolean;
  v_constraint  text;
BEGIN
  -- The serialisation point (see the comment at the top of src/postgres/append.ts): held until COMMIT.
  SELECT p.last INTO v_last FROM ${s}.positions p WHERE p.id = 1 FOR UPDATE;

  SELECT coalesce(max(st.last_revision), -1) INTO v_rev FROM ${s}.streams st WHERE st.stream_name = p_stream;
  v_expected_ok := p_expected = 'any'
     OR (p_expected = 'no_stream' AND v_rev = -1)
     OR (p_expected = 'stream_exists' AND v_rev <> -1)
     OR (p_expected NOT IN ('any', 'no_stream', 'stream_exists') AND v_rev = p_expected::bigint);

  -- Fast path (no duplicates, the usual case): insert everything; the unique index on event_id is
  -- the duplicate check. A unique violation rolls back this block only and takes the careful path.
  IF v_expected_ok THEN
    BEGIN
      INSERT INTO ${s}.events (global_position, event_id, stream_name, stream_revision, event_type, data, metadata)
      SELECT v_last + u.ord, u.id, p_stream, v_rev + u.ord, u.t, substring(p_data FROM (u.ends - u.len + 1)::int FOR u.len), u.m
        FROM (SELECT u0.*, sum(u0.len) OVER (ORDER BY u0.ord) AS ends
                FROM unnest(p_ids, p_types, p_lengths, p_metadata) WITH ORDINALITY AS u0(id, t, len, m, ord)) u;
      v_new := cardinality(p_ids);
      INSERT INTO ${s}.streams AS st (stream_name, last_revision) VALUES (p_stream, v_rev + v_new)
        ON CONFLICT (stream_name) DO UPDATE SET last_revision = excluded.last_revision;
      UPDATE ${s}.positions SET last = v_last + v_new WHERE id = 1;
      PERFORM pg_notify('${notifyChannel(s)}', (v_last + v_new)::text);
      RETURN QUERY SELECT 'ok'::text, v_rev, v_rev + v_new, v_last + v_new, '{}'::uuid[], '{}'::bigint[];
      RETURN;
    EXCEPTION WHEN unique_violation THEN
      GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
      IF v_constraint IS DISTINCT FROM 'events_event_id_key' THEN
        RAISE;
      END IF;
    END;
  END IF;

  -- Careful path: some eventIds are stored already, or the expected revision does not match (then
  -- an append whose events are ALL stored already is an acknowledged retry, not a conflict).
  SELECT coalesce(array_agg(e.event_id ORDER BY u.ord), '{}'), coalesce(array_agg(e.global_position ORDER BY u.ord), '{}')
    INTO v_dup_ids, v_dup_pos
    FROM unnest(p_ids) WITH ORDINALITY AS u(id, ord)
    JOIN ${s}.events e ON e.event_id = u.id;
  v_new := cardinality(p_ids) - cardinality(v_dup_ids);

  IF v_new = 0 THEN
    RETURN QUERY SELECT 'duplicate'::text, v_rev, v_rev, v_dup_pos[cardinality(v_dup_pos)], v_dup_ids, v_dup_pos;
    RETURN;
  END IF;

  IF NOT v_expected_ok THEN
    RETURN QUERY SELECT 'wrong_revision'::text, v_rev, v_rev, NULL::bigint, v_dup_ids, v_dup_pos;
    RETURN;
  END IF;

  INSERT INTO ${s}.events (global_position, event_id, stream_name, stream_revision, event_type, data, metadata)
  SELECT v_last + x.n, x.id, p_stream, v_rev + x.n, x.t, substring(p_data FROM x.start FOR x.len), x.m
    FROM (
      SELECT row_number() OVER (ORDER BY u.ord) AS n, u.id, u.t, u.m, u.len, (u.ends - u.len + 1)::int AS start
        FROM (SELECT u0.*, sum(u0.len) OVER (ORDER BY u0.ord) AS ends
                FROM unnest(p_ids, p_types, p_lengths, p_metadata) WITH ORDINALITY AS u0(id, t, len, m, ord)) u
       WHERE NOT (u.id = ANY (v_dup_ids))
    ) x;

  INSERT INTO ${s}.streams AS st (stream_name, last_revision) VALUES (p_stream, v_rev + v_new)
    ON CONFLICT (stream_name) DO UPDATE SET last_revision = excluded.last_revision;

  UPDATE ${s}.positions SET last = v_last + v_new WHERE id = 1;

  -- Delivered at COMMIT only: wakes live subscriptions (LISTEN) in every process.
  PERFORM pg_notify('${notifyChannel(s)}', (v_last + v_new)::text);

  RETURN QUERY SELECT 'ok'::text, v_rev, v_rev + v_new, v_last + v_new, v_dup_ids, v_dup_pos;
END
$fn$;
`;
}
