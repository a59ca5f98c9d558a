import { notifyChannel } from '../client.ts';

/**
 * 003: append_any_many in fewer passes over the batch. 002 filled its temporary table and then
 * updated every row twice (in-batch duplicates, then positions and revisions); here one INSERT
 * computes all of it with window functions:
 *   - dup: the eventId is stored already, or occurs earlier in the batch (the first occurrence wins);
 *   - pos: the counter plus the running count of new events in input order;
 *   - rev: the stream's last revision plus the running count of its new events in input order.
 * Same serialisation point (the positions row, FOR UPDATE, held until COMMIT), same results, same
 * signature: the global-order argument of ../append.ts holds unchanged.
 */
export const name = 'append-any-many-one-pass';

export const sql = (s: string): string => `
CREATE OR REPLACE FUNCTION ${s}.append_any_many(
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

  INSERT INTO pg_temp.sporbar_batch (ord, stream, id, t, start, len, m, dup, pos, rev)
  SELECT x.ord, x.stream, x.id, x.t, x.start, x.len, x.m, x.dup,
         CASE WHEN NOT x.dup THEN v_last + count(*) FILTER (WHERE NOT x.dup) OVER (ORDER BY x.ord) END,
         CASE WHEN NOT x.dup THEN coalesce(st.last_revision, -1) + count(*) FILTER (WHERE NOT x.dup) OVER (PARTITION BY x.stream ORDER BY x.ord) END
    FROM (SELECT u.ord, u.stream, u.id, u.t, (u.ends - u.len + 1)::int AS start, u.len, u.m,
                 row_number() OVER (PARTITION BY u.id ORDER BY u.ord) > 1
                   OR EXISTS (SELECT 1 FROM ${s}.events e WHERE e.event_id = u.id) AS dup
            FROM (SELECT u0.*, sum(u0.len) OVER (ORDER BY u0.ord) AS ends
                    FROM unnest(p_streams, p_ids, p_types, p_lengths, p_metadata) WITH ORDINALITY AS u0(stream, id, t, len, m, ord)) u) x
    LEFT JOIN ${s}.streams st ON st.stream_name = x.stream;

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
