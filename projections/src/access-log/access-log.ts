import { withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

/** Who looked at whose data, when, in which role, and why (every ReportViewed). */
export interface AccessChange {
  readonly eventId: string;
  readonly subject: string;
  readonly viewerId: string;
  readonly viewerRole: string;
  readonly reason: string | null;
  readonly view: string;
  readonly occurredAtMicros: number;
}

export function projectAccess(event: ProjectedEvent): AccessChange[] {
  if (event.type !== 'ReportViewed') return [];
  const d = event.data;
  return [{ eventId: d.eventId, subject: d.subject.value, viewerId: d.viewerId, viewerRole: d.viewerRole, reason: d.reason, view: d.view, occurredAtMicros: d.occurredAt }];
}

export const accessLog: Projection<AccessChange> = {
  name: 'access-log',
  tables: ['access_log'],
  ddl: [
    `CREATE TABLE IF NOT EXISTS {prefix}access_log (
      event_id uuid PRIMARY KEY,
      subject text NOT NULL,
      viewer_id text NOT NULL,
      viewer_role text NOT NULL,
      reason text,
      view text NOT NULL,
      occurred_at timestamptz NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS {prefix}access_log_by_subject ON {prefix}access_log (subject, occurred_at DESC, event_id)`,
    `CREATE INDEX IF NOT EXISTS {prefix}access_log_by_time ON {prefix}access_log (occurred_at DESC, event_id)`,
  ],
  project: projectAccess,
  async apply(tx, changes, prefix) {
    const sql = withPrefix(
      `INSERT INTO {prefix}access_log (event_id, subject, viewer_id, viewer_role, reason, view, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::double precision / 1000000)) ON CONFLICT (event_id) DO NOTHING`,
      prefix,
    );
    for (const c of changes) await tx.query(sql, [c.eventId, c.subject, c.viewerId, c.viewerRole, c.reason, c.view, c.occurredAtMicros]);
  },
};
