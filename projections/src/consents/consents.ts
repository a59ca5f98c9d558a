import type { ConsentScope } from '@sporbar/schemas';
import { withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

/** Consent history per subject, activity and scope: given or withdrawn, and when. */
export interface ConsentChange {
  readonly eventId: string;
  readonly subject: string;
  readonly activity: string;
  readonly scope: ConsentScope;
  readonly given: boolean;
  readonly occurredAtMicros: number;
}

export function projectConsent(event: ProjectedEvent): ConsentChange[] {
  if (event.type !== 'ConsentGiven' && event.type !== 'ConsentWithdrawn') return [];
  const d = event.data;
  return [{ eventId: d.eventId, subject: d.subject.value, activity: d.activity, scope: d.scope, given: event.type === 'ConsentGiven', occurredAtMicros: d.occurredAt }];
}

export const consents: Projection<ConsentChange> = {
  name: 'consents',
  tables: ['consent_events'],
  ddl: [
    `CREATE TABLE IF NOT EXISTS {prefix}consent_events (
      event_id uuid PRIMARY KEY,
      subject text NOT NULL,
      activity text NOT NULL,
      scope text NOT NULL,
      given boolean NOT NULL,
      occurred_at timestamptz NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS {prefix}consent_events_lookup ON {prefix}consent_events (subject, activity, scope, occurred_at DESC)`,
  ],
  project: projectConsent,
  async apply(tx, changes, prefix) {
    const sql = withPrefix(
      `INSERT INTO {prefix}consent_events (event_id, subject, activity, scope, given, occurred_at)
       VALUES ($1, $2, $3, $4, $5, to_timestamp($6::double precision / 1000000)) ON CONFLICT (event_id) DO NOTHING`,
      prefix,
    );
    for (const c of changes) await tx.query(sql, [c.eventId, c.subject, c.activity, c.scope, c.given, c.occurredAtMicros]);
  },
};

/** The consent state of a subject now: the latest event per activity and scope. */
export const CURRENT_CONSENTS_SQL = `SELECT DISTINCT ON (activity, scope) activity, scope, given, occurred_at
  FROM {prefix}consent_events WHERE subject = $1 ORDER BY activity, scope, occurred_at DESC, event_id`;
