import type { ConsentScope } from '@sporbar/schemas';
import { columns } from '../batch.ts';
import { inOrder, preparedProjection, withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

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

export const consents: Projection<ConsentChange> = preparedProjection<ConsentChange>({
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
  prepare: (changes, prefix) =>
    inOrder([
      [
        withPrefix(
          `INSERT INTO {prefix}consent_events (event_id, subject, activity, scope, given, occurred_at)
           SELECT u.event_id, u.subject, u.activity, u.scope, u.given, to_timestamp(u.occurred / 1000000)
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::double precision[]) AS u(event_id, subject, activity, scope, given, occurred)
           ON CONFLICT (event_id) DO NOTHING`,
          prefix,
        ),
        columns(changes, (c) => c.eventId, (c) => c.subject, (c) => c.activity, (c) => c.scope, (c) => c.given, (c) => c.occurredAtMicros),
      ],
    ]),
});

/** The consent state of a subject now: the latest event per activity and scope. */
export const CURRENT_CONSENTS_SQL = `SELECT DISTINCT ON (activity, scope) activity, scope, given, occurred_at
  FROM {prefix}consent_events WHERE subject = $1 ORDER BY activity, scope, occurred_at DESC, event_id`;
