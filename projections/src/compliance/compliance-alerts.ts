import { findFlow, registerTimeline, type RegisterSource } from '@sporbar/schemas';
import { arrayLiteral, arrayParam, columns, type Cell } from '../batch.ts';
import { inOrder, preparedProjection, withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

/**
 * Every disclosure the register does not cover, with its reasons; and every consent-based
 * disclosure (call recording, screen sharing, surveys) made when the subject's consent was not in
 * force at that moment — e.g. a recording after the consent was withdrawn.
 */
export type ComplianceChange =
  | { readonly kind: 'undeclared'; readonly row: AlertRow }
  | { readonly kind: 'needs-consent'; readonly row: AlertRow; readonly scopes: readonly string[] }
  /**
   * A consent event of the batch (stored by the consents projection, applied before this one): a
   * disclosure must not see consents that come after it in the log, whatever the batch size.
   */
  | { readonly kind: 'consent'; readonly eventId: string; readonly position: bigint };

export interface AlertRow {
  readonly eventId: string;
  readonly position: bigint;
  readonly subject: string;
  readonly occurredAtMicros: number;
  readonly activity: string;
  readonly recipientId: string;
  readonly purpose: string;
  readonly reasons: readonly string[];
  /**
   * The producer the ingest authenticated (the event's metadata `producer`); null for events stored
   * without one (before producer authentication, or by a development ingest with it off).
   */
  readonly producer: string | null;
}

export function createComplianceAlerts(register: RegisterSource): Projection<ComplianceChange> {
  // The consent rules (a flow's consent scopes) of the notice version in force when the disclosure happened.
  const timeline = registerTimeline(register);
  return preparedProjection<ComplianceChange>({
    name: 'compliance-alerts',
    tables: ['compliance_alerts'],
    ddl: [
      `CREATE TABLE IF NOT EXISTS {prefix}compliance_alerts (
        event_id uuid PRIMARY KEY,
        position bigint NOT NULL,
        subject text NOT NULL,
        occurred_at timestamptz NOT NULL,
        activity text NOT NULL,
        recipient_id text NOT NULL,
        purpose text NOT NULL,
        reasons text[] NOT NULL,
        producer text
      )`,
      // Tables made before alerts carried the producer: the column is added (null in the rows already
      // there, until a rebuild — npm run rebuild -w @sporbar/projections — replays them from the log).
      `ALTER TABLE {prefix}compliance_alerts ADD COLUMN IF NOT EXISTS producer text`,
    ],
    indexes: [
      `CREATE INDEX IF NOT EXISTS {prefix}compliance_alerts_by_time ON {prefix}compliance_alerts (occurred_at DESC, event_id)`,
      // A citizen's report counts their consent-missing alerts per recipient.
      `CREATE INDEX IF NOT EXISTS {prefix}compliance_alerts_by_subject ON {prefix}compliance_alerts (subject)`,
    ],
    project(event: ProjectedEvent): ComplianceChange[] {
      if (event.type === 'ConsentGiven' || event.type === 'ConsentWithdrawn') return [{ kind: 'consent', eventId: event.data.eventId, position: event.globalPosition }];
      if (event.type !== 'DisclosureRecorded') return [];
      const d = event.data;
      const row = {
        eventId: d.eventId,
        position: event.globalPosition,
        subject: d.subject.value,
        occurredAtMicros: d.occurredAt,
        activity: d.activity,
        recipientId: d.recipient.id,
        purpose: d.purpose,
        producer: event.metadata['producer'] ?? null,
      };
      if (event.metadata['classification'] === 'undeclared') {
        return [{ kind: 'undeclared', row: { ...row, reasons: (event.metadata['reasons'] ?? '').split(',').filter(Boolean) } }];
      }
      const scopes = findFlow(event.metadata['flow'] ?? '', timeline.at(new Date(Math.floor(d.occurredAt / 1000))))?.flow.consentScopes ?? [];
      return scopes.length > 0 ? [{ kind: 'needs-consent', row: { ...row, reasons: ['CONSENT_MISSING'] }, scopes }] : [];
    },
    prepare(changes, prefix) {
      const statements: Array<[string, unknown[]]> = [];
      const undeclared: AlertRow[] = [];
      const needsConsent: Array<{ row: AlertRow; scopes: readonly string[] }> = [];
      const consentIds: string[] = [];
      const consentPositions: bigint[] = [];
      for (const c of changes) {
        if (c.kind === 'undeclared') undeclared.push(c.row);
        else if (c.kind === 'needs-consent') needsConsent.push(c);
        else {
          consentIds.push(c.eventId);
          consentPositions.push(c.position);
        }
      }
      const rowColumns: Array<(r: AlertRow) => Cell> = [
        (r) => r.eventId,
        (r) => r.position,
        (r) => r.subject,
        (r) => r.occurredAtMicros,
        (r) => r.activity,
        (r) => r.recipientId,
        (r) => r.purpose,
        (r) => arrayLiteral(r.reasons),
        (r) => r.producer,
      ];
      const insert = `INSERT INTO {prefix}compliance_alerts (event_id, position, subject, occurred_at, activity, recipient_id, purpose, reasons, producer)
        SELECT u.event_id, u.position, u.subject, to_timestamp(u.occurred / 1000000), u.activity, u.recipient_id, u.purpose, u.reasons::text[], u.producer`;
      const rows = `unnest($1::uuid[], $2::bigint[], $3::text[], $4::double precision[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]`;
      const as = `u(event_id, position, subject, occurred, activity, recipient_id, purpose, reasons, producer`;
      if (undeclared.length > 0) {
        statements.push([withPrefix(`${insert} FROM ${rows}) AS ${as}) ON CONFLICT (event_id) DO NOTHING`, prefix), columns(undeclared, ...rowColumns)]);
      }
      if (needsConsent.length > 0) {
        // In force = the latest consent event for one of the flow's scopes, at or before the disclosure, is a 'given'.
        // Consents of this batch that come later in the log than the disclosure are not seen yet.
        statements.push([
          withPrefix(
            `${insert} FROM ${rows}, $10::text[]) AS ${as}, scopes)
              WHERE NOT EXISTS (
                SELECT 1 FROM (
                  SELECT DISTINCT ON (c.scope) c.given FROM {prefix}consent_events c
                   WHERE c.subject = u.subject AND c.activity = u.activity AND c.scope = ANY(u.scopes::text[])
                     AND c.occurred_at <= to_timestamp(u.occurred / 1000000)
                     AND NOT EXISTS (SELECT 1 FROM unnest($11::uuid[], $12::bigint[]) AS later(event_id, position)
                                      WHERE later.event_id = c.event_id AND later.position > u.position)
                   ORDER BY c.scope, c.occurred_at DESC, c.event_id DESC
                ) latest WHERE latest.given)
             ON CONFLICT (event_id) DO NOTHING`,
            prefix,
          ),
          [...columns(needsConsent, ...rowColumns.map((f) => (c: { row: AlertRow }) => f(c.row)), (c) => arrayLiteral(c.scopes)), arrayParam(consentIds), arrayParam(consentPositions)],
        ]);
      }
      return inOrder(statements);
    },
  });
}
