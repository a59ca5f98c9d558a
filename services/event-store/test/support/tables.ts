/**
 * The SQL adapters' tables in a schema, qualified, for tests that change a store behind its back
 * (the auditor's tamper tests play an insider with database access). Their SQL names the tables
 * through this, so the table layout is spelled out in this package only.
 */
export interface StoreTables {
  /** One row per event: global_position, event_id, stream_name, stream_revision, event_type, data, metadata, recorded_at. */
  readonly events: string;
  /** The single-row position counter the append function moves: id = 1, last. */
  readonly positions: string;
  /** One row per stream: stream_name, last_revision, metadata. */
  readonly streams: string;
}

export const storeTables = (schema: string): StoreTables => ({
  events: `${schema}.events`,
  positions: `${schema}.positions`,
  streams: `${schema}.streams`,
});
