import { retentionDeadline, type ProcessingRegister } from '@sporbar/schemas';
import { withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

/**
 * What must be erased when: per subject, activity and retention rule of the register, the latest
 * deadline any of their disclosures sets; RetentionExpired and shredding mark it done.
 */
export type RetentionChange =
  | { readonly kind: 'due'; readonly subject: string; readonly activity: string; readonly ruleId: string; readonly deadline: Date; readonly lastEventMicros: number }
  | { readonly kind: 'expired'; readonly subject: string; readonly activity: string; readonly ruleId: string; readonly atMicros: number; readonly coversUntilMicros: number }
  | { readonly kind: 'shredded'; readonly subject: string; readonly atMicros: number };

export function createRetentionSchedule(register: ProcessingRegister): Projection<RetentionChange> {
  const rules = new Map(register.retentionRules.map((r) => [r.id, r]));
  return {
    name: 'retention-schedule',
    tables: ['retention_schedule'],
    ddl: [
      `CREATE TABLE IF NOT EXISTS {prefix}retention_schedule (
        subject text NOT NULL,
        activity text NOT NULL,
        rule_id text NOT NULL,
        deadline timestamptz NOT NULL,
        last_event_at timestamptz NOT NULL,
        done_at timestamptz,
        done_by text,
        PRIMARY KEY (subject, activity, rule_id)
      )`,
      `CREATE INDEX IF NOT EXISTS {prefix}retention_schedule_due ON {prefix}retention_schedule (deadline) WHERE done_at IS NULL`,
    ],
    project(event: ProjectedEvent): RetentionChange[] {
      if (event.type === 'DisclosureRecorded') {
        const d = event.data;
        const ids = (event.metadata['retention'] ?? '').split(',').filter(Boolean);
        const occurred = new Date(Math.floor(d.occurredAt / 1000));
        return ids.flatMap((ruleId): RetentionChange[] => {
          const rule = rules.get(ruleId);
          const deadline = rule ? retentionDeadline(rule, occurred) : null;
          return deadline ? [{ kind: 'due', subject: d.subject.value, activity: d.activity, ruleId, deadline, lastEventMicros: d.occurredAt }] : [];
        });
      }
      if (event.type === 'RetentionExpired') {
        const d = event.data;
        return [{ kind: 'expired', subject: d.subject.value, activity: d.activity, ruleId: d.retentionRule, atMicros: d.occurredAt, coversUntilMicros: d.coversUntil }];
      }
      if (event.type === 'SubjectKeyShredded') return [{ kind: 'shredded', subject: event.data.subject.value, atMicros: event.data.occurredAt }];
      return [];
    },
    async apply(tx, changes, prefix) {
      for (const c of changes) {
        if (c.kind === 'due') {
          // A later disclosure moves the deadline on and re-opens a rule that had run out.
          await tx.query(
            withPrefix(
              `INSERT INTO {prefix}retention_schedule AS r (subject, activity, rule_id, deadline, last_event_at)
               VALUES ($1, $2, $3, $4, to_timestamp($5::double precision / 1000000))
               ON CONFLICT (subject, activity, rule_id) DO UPDATE SET
                 deadline = GREATEST(r.deadline, excluded.deadline),
                 last_event_at = GREATEST(r.last_event_at, excluded.last_event_at),
                 done_at = CASE WHEN excluded.last_event_at > r.done_at THEN NULL ELSE r.done_at END,
                 done_by = CASE WHEN excluded.last_event_at > r.done_at THEN NULL ELSE r.done_by END`,
              prefix,
            ),
            [c.subject, c.activity, c.ruleId, c.deadline, c.lastEventMicros],
          );
        } else if (c.kind === 'expired') {
          // Everything of the activity that occurred up to coversUntil is expired (the details' key is shredded).
          await tx.query(
            withPrefix(
              `UPDATE {prefix}retention_schedule SET done_at = to_timestamp($3::double precision / 1000000), done_by = 'RetentionExpired'
               WHERE subject = $1 AND activity = $2 AND last_event_at <= to_timestamp($4::double precision / 1000000) AND done_at IS NULL`,
              prefix,
            ),
            [c.subject, c.activity, c.atMicros, c.coversUntilMicros],
          );
        } else {
          await tx.query(
            withPrefix(
              `UPDATE {prefix}retention_schedule SET done_at = to_timestamp($2::double precision / 1000000), done_by = 'SubjectKeyShredded'
               WHERE subject = $1 AND done_at IS NULL`,
              prefix,
            ),
            [c.subject, c.atMicros],
          );
        }
      }
    },
  };
}
