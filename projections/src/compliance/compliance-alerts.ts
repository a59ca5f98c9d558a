import { findFlow, type ProcessingRegister } from '@sporbar/schemas';
import { withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

/**
 * Every disclosure the register does not cover, with its reasons; and every consent-based
 * disclosure (call recording, screen sharing, surveys) made when the subject's consent was not in
 * force at that moment — e.g. a recording after the consent was withdrawn.
 */
export type ComplianceChange =
  | { readonly kind: 'undeclared'; readonly row: AlertRow }
  | { readonly kind: 'needs-consent'; readonly row: AlertRow; readonly scopes: readonly string[] };

export interface AlertRow {
  readonly eventId: string;
  readonly position: bigint;
  readonly subject: string;
  readonly occurredAtMicros: number;
  readonly activity: string;
  readonly recipientId: string;
  readonly purpose: string;
  readonly reasons: readonly string[];
}

export function createComplianceAlerts(register: ProcessingRegister): Projection<ComplianceChange> {
  return {
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
        reasons text[] NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS {prefix}compliance_alerts_by_time ON {prefix}compliance_alerts (occurred_at DESC, event_id)`,
    ],
    project(event: ProjectedEvent): ComplianceChange[] {
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
      };
      if (event.metadata['classification'] === 'undeclared') {
        return [{ kind: 'undeclared', row: { ...row, reasons: (event.metadata['reasons'] ?? '').split(',').filter(Boolean) } }];
      }
      const scopes = findFlow(event.metadata['flow'] ?? '', register)?.flow.consentScopes ?? [];
      return scopes.length > 0 ? [{ kind: 'needs-consent', row: { ...row, reasons: ['CONSENT_MISSING'] }, scopes }] : [];
    },
    async apply(tx, changes, prefix) {
      const insert = `INSERT INTO {prefix}compliance_alerts (event_id, position, subject, occurred_at, activity, recipient_id, purpose, reasons)
        SELECT $1, $2, $3, to_timestamp($4::double precision / 1000000), $5, $6, $7, $8`;
      for (const c of changes) {
        const r = c.row;
        const params: unknown[] = [r.eventId, r.position.toString(), r.subject, r.occurredAtMicros, r.activity, r.recipientId, r.purpose, r.reasons];
        if (c.kind === 'undeclared') {
          await tx.query(withPrefix(`${insert} ON CONFLICT (event_id) DO NOTHING`, prefix), params);
        } else {
          // In force = the latest consent event for one of the flow's scopes, at or before the disclosure, is a 'given'.
          await tx.query(
            withPrefix(
              `${insert} WHERE NOT EXISTS (
                 SELECT 1 FROM (
                   SELECT DISTINCT ON (scope) given FROM {prefix}consent_events
                    WHERE subject = $3 AND activity = $5 AND scope = ANY($9::text[]) AND occurred_at <= to_timestamp($4::double precision / 1000000)
                    ORDER BY scope, occurred_at DESC, event_id DESC
                 ) latest WHERE latest.given)
               ON CONFLICT (event_id) DO NOTHING`,
              prefix,
            ),
            [...params, c.scopes],
          );
        }
      }
    },
  };
}
