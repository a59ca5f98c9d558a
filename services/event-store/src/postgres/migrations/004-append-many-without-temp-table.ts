import { notifyChannel } from '../client.ts';

/**
 * 004: append_any_many without a temporary table. 003 created `pg_temp.sporbar_batch` in every call
 * (ON COMMIT DROP): catalog rows written and deleted per batch, and a new table oid each time, so
 * every statement over it was planned again. That cost ~4 ms of server CPU per call whatever the
 * batch size (measured: 4.2 ms for a 6-event batch, 7.3 ms for 120, 28 ms for 960), which made small
 * batches, the ingest's normal case at moderate rates, expensive. Here the one pass of 003 (same
 * window functions, same results) is collected into arrays, and the statements after it read them
 * back with unnest: no catalog writes, and plans that stay cached for the session.
 * Same serialisation point (the positions row, FOR UPDATE, held until COMMIT), same signature.
 */
export const name = 'append-any-many-without-temp-table';

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
  v_last  bigint;
  v_new   bigint;
  a_start int[];
  a_dup   boolean[];
  a_pos   bigint[];
  a_rev   bigint[];
BEGIN
  SELECT p.last INTO v_last FROM ${s}.positions p WHERE p.id = 1 FOR UPDATE;

  -- Per input row, in input order: where its data starts, whether it is a duplicate (stored already,
  -- or earlier in the batch: the first occurrence wins), its global position and stream revision.
  SELECT array_agg(y.start ORDER BY y.ord), array_agg(y.dup ORDER BY y.ord), array_agg(y.pos ORDER BY y.ord), array_agg(y.rev ORDER BY y.ord)
    INTO a_start, a_dup, a_pos, a_rev
    FROM (SELECT x.ord, x.start, x.dup,
                 CASE WHEN NOT x.dup THEN v_last + count(*) FILTER (WHERE NOT x.dup) OVER (ORDER BY x.ord) END AS pos,
                 CASE WHEN NOT x.dup THEN coalesce(st.last_revision, -1) + count(*) FILTER (WHERE NOT x.dup) OVER (PARTITION BY x.stream ORDER BY x.ord) END AS rev
            FROM (SELECT u.ord, u.stream, (u.ends - u.len + 1)::int AS start,
                         row_number() OVER (PARTITION BY u.id ORDER BY u.ord) > 1 OR stored.hit IS NOT NULL AS dup
                    FROM (SELECT u0.*, sum(u0.len) OVER (ORDER BY u0.ord) AS ends
                            FROM unnest(p_streams, p_ids, p_lengths) WITH ORDINALITY AS u0(stream, id, len, ord)) u
                    -- LATERAL … LIMIT 1: an index probe per row, always (the plan is cached for the
                    -- session; a hashed lookup planned while the table was small would scan it all later)
                    LEFT JOIN LATERAL (SELECT 1 AS hit FROM ${s}.events e WHERE e.event_id = u.id LIMIT 1) stored ON true) x
            LEFT JOIN LATERAL (SELECT st0.last_revision FROM ${s}.streams st0 WHERE st0.stream_name = x.stream LIMIT 1) st ON true) y;

  INSERT INTO ${s}.events (global_position, event_id, stream_name, stream_revision, event_type, data, metadata)
  SELECT b.pos, b.id, b.stream, b.rev, b.t, substring(p_data FROM b.start FOR b.len), b.m
    FROM unnest(p_streams, p_ids, p_types, p_lengths, p_metadata, a_start, a_dup, a_pos, a_rev) WITH ORDINALITY AS b(stream, id, t, len, m, start, dup, pos, rev, ord)
   WHERE NOT b.dup ORDER BY b.ord;
  GET DIAGNOSTICS v_new = ROW_COUNT;

  IF v_new > 0 THEN
    INSERT INTO ${s}.streams AS st (stream_name, last_revision)
    SELECT b.stream, max(b.rev) FROM unnest(p_streams, a_dup, a_rev) AS b(stream, dup, rev) WHERE NOT b.dup GROUP BY b.stream
      ON CONFLICT (stream_name) DO UPDATE SET last_revision = excluded.last_revision;
    UPDATE ${s}.positions SET last = v_last + v_new WHERE id = 1;
    PERFORM pg_notify('${notifyChannel(s)}', (v_last + v_new)::text);
  END IF;

  RETURN QUERY
  SELECT b.id, NOT b.dup, coalesce(b.pos, e.global_position), b.stream, coalesce(b.rev, e.stream_revision)
    FROM unnest(p_streams, p_ids, a_dup, a_pos, a_rev) WITH ORDINALITY AS b(stream, id, dup, pos, rev, ord)
    LEFT JOIN LATERAL (SELECT e0.global_position, e0.stream_revision FROM ${s}.events e0 WHERE b.dup AND e0.event_id = b.id LIMIT 1) e ON true
   ORDER BY b.ord;
END
$fn$;
`;
