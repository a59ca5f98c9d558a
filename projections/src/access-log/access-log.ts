import { columns } from '../batch.ts';
import { inOrder, preparedProjection, withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

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

export const accessLog: Projection<AccessChange> = preparedProjection<AccessChange>({
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
  ],
  indexes: [
    `CREATE INDEX IF NOT EXISTS {prefix}access_log_by_subject ON {prefix}access_log (subject, occurred_at DESC, event_id)`,
    `CREATE INDEX IF NOT EXISTS {prefix}access_log_by_time ON {prefix}access_log (occurred_at DESC, event_id)`,
  ],
  project: projectAccess,
  prepare: (changes, prefix) =>
    inOrder([
      [
        withPrefix(
          `INSERT INTO {prefix}access_log (event_id, subject, viewer_id, viewer_role, reason, view, occurred_at)
           SELECT u.event_id, u.subject, u.viewer_id, u.viewer_role, u.reason, u.view, to_timestamp(u.occurred / 1000000)
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::double precision[])
               AS u(event_id, subject, viewer_id, viewer_role, reason, view, occurred)
           ON CONFLICT (event_id) DO NOTHING`,
          prefix,
        ),
        columns(changes, (c) => c.eventId, (c) => c.subject, (c) => c.viewerId, (c) => c.viewerRole, (c) => c.reason, (c) => c.view, (c) => c.occurredAtMicros),
      ],
    ]),
});
