import { notifyChannel } from '../client.ts';

/**
 * 002: append_any_many — the ingest's batches in ONE statement: events of many streams, none with an
 * expected revision ('any'). Same serialisation point as append() (the positions row, FOR UPDATE,
 * held until COMMIT), so the global-order argument of ../append.ts holds unchanged. Holding that lock
 * also makes the duplicate check exact: no other append can store an eventId meanwhile.
 * Returns one row per input event: its position and stream revision, and whether it was new.
 */
export const name = 'append-any-many';

export const sql = (s: string): string => `
CREATE FUNCTION ${s}.append_any_many(
  p_streams  text[],
  p_ids      uuid[],
  p_types    text[],
  p_data     bytea,
  p_lengths  int[],
  p_metadata jsonb[]
) RETURNS TABLE (event_id uuid, stored boolean, global_position bigint, stream_name text, stream_revision bigint)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  v_last bigint;
  v_new  bigint;
BEGIN
  SELECT p.last INTO v_last FROM ${s}.positions p WHERE p.id = 1 FOR UPDATE;

  CREATE TEMP TABLE IF NOT EXISTS pg_temp.sporbar_batch (
    ord bigint, stream text, id uuid, t text, start int, len int, m jsonb, dup boolean, pos bigint, rev bigint
  ) ON COMMIT DROP;
  TRUNCATE pg_temp.sporbar_batch;

  INSERT INTO pg_temp.sporbar_batch (ord, stream, id, t, start, len, m, dup)
  SELECT u.ord, u.stream, u.id, u.t, (u.ends - u.len + 1)::int, u.len, u.m,
         EXISTS (SELECT 1 FROM ${s}.events e WHERE e.event_id = u.id)
    FROM (SELECT u0.*, sum(u0.len) OVER (ORDER BY u0.ord) AS ends
            FROM unnest(p_streams, p_ids, p_types, p_lengths, p_metadata) WITH ORDINALITY AS u0(stream, id, t, len, m, ord)) u;

  -- The same eventId twice in one batch (in two streams): the first occurrence wins.
  UPDATE pg_temp.sporbar_batch b SET dup = true
   WHERE NOT b.dup AND EXISTS (SELECT 1 FROM pg_temp.sporbar_batch b2 WHERE b2.id = b.id AND b2.ord < b.ord);

  -- New events: positions in input order after the counter, revisions per stream after its last.
  UPDATE pg_temp.sporbar_batch b SET pos = v_last + x.n, rev = coalesce(x.last_rev, -1) + x.r
    FROM (SELECT bb.ord,
                 row_number() OVER (ORDER BY bb.ord) AS n,
                 row_number() OVER (PARTITION BY bb.stream ORDER BY bb.ord) AS r,
                 st.last_revision AS last_rev
            FROM pg_temp.sporbar_batch bb LEFT JOIN ${s}.streams st ON st.stream_name = bb.stream
           WHERE NOT bb.dup) x
   WHERE b.ord = x.ord;

  INSERT INTO ${s}.events (global_position, event_id, stream_name, stream_revision, event_type, data, metadata)
  SELECT b.pos, b.id, b.stream, b.rev, b.t, substring(p_data FROM b.start FOR b.len), b.m
    FROM pg_temp.sporbar_batch b WHERE NOT b.dup ORDER BY b.ord;
  GET DIAGNOSTICS v_new = ROW_COUNT;

  IF v_new > 0 THEN
    INSERT INTO ${s}.streams AS st (stream_name, last_revision)
    SELECT b.stream, max(b.rev) FROM pg_temp.sporbar_batch b WHERE NOT b.dup GROUP BY b.stream
      ON CONFLICT (stream_name) DO UPDATE SET last_revision = excluded.last_revision;
    UPDATE ${s}.positions SET last = v_last + v_new WHERE id = 1;
    PERFORM pg_notify('${notifyChannel(s)}', (v_last + v_new)::text);
  END IF;

  RETURN QUERY
  SELECT b.id, NOT b.dup, coalesce(b.pos, e.global_position), b.stream, coalesce(b.rev, e.stream_revision)
    FROM pg_temp.sporbar_batch b LEFT JOIN ${s}.events e ON b.dup AND e.event_id = b.id
   ORDER BY b.ord;
END
$fn$;
`;
