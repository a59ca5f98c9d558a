import { registerTimeline, retentionDeadline, type RegisterSource, type RetentionRule } from '@sporbar/schemas';
import { columns } from '../batch.ts';
import { inOrder, preparedProjection, withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

/**
 * What must be erased when: per subject, activity and retention rule of the register, the latest
 * deadline any of their disclosures sets; RetentionExpired and shredding mark it done.
 */
export type RetentionChange =
  | { readonly kind: 'due'; readonly subject: string; readonly activity: string; readonly ruleId: string; readonly deadline: Date; readonly lastEventMicros: number }
  | { readonly kind: 'expired'; readonly subject: string; readonly activity: string; readonly ruleId: string; readonly atMicros: number; readonly coversUntilMicros: number }
  | { readonly kind: 'shredded'; readonly subject: string; readonly atMicros: number };

export function createRetentionSchedule(register: RegisterSource): Projection<RetentionChange> {
  // The retention rules of the notice version in force when the disclosure happened (a later version
  // may change a period; the deadline of an earlier disclosure stays what its notice said).
  const timeline = registerTimeline(register);
  const rulesOf = new WeakMap<object, Map<string, RetentionRule>>();
  const rules = (at: Date): Map<string, RetentionRule> => {
    const reg = timeline.at(at);
    let m = rulesOf.get(reg);
    if (m === undefined) { m = new Map(reg.retentionRules.map((r) => [r.id, r])); rulesOf.set(reg, m); }
    return m;
  };
  return preparedProjection<RetentionChange>({
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
    ],
    indexes: [
      `CREATE INDEX IF NOT EXISTS {prefix}retention_schedule_due ON {prefix}retention_schedule (deadline) WHERE done_at IS NULL`,
    ],
    project(event: ProjectedEvent): RetentionChange[] {
      if (event.type === 'DisclosureRecorded') {
        const d = event.data;
        const ids = (event.metadata['retention'] ?? '').split(',').filter(Boolean);
        const occurred = new Date(Math.floor(d.occurredAt / 1000));
        const inForce = ids.length === 0 ? null : rules(occurred);
        return ids.flatMap((ruleId): RetentionChange[] => {
          const rule = inForce?.get(ruleId);
          const deadline = rule ? retentionDeadline(rule, occurred) : null;
          return deadline ? [{ kind: 'due', subject: d.subject.value, activity: d.activity, ruleId, deadline, lastEventMicros: d.occurredAt }] : [];
        });
      }
      if (event.type === 'RetentionExpired') {
        const d = event.data;
        return [{ kind: 'expired', subject: d.subject.value, activity: d.activity, ruleId: d.retentionRule, atMicros: d.occurredAt, coversUntilMicros: d.coversUntil }];
      }
      // An erasure shreds every key of the subject: all of its retention is done. A shred caused by
      // retention covers one activity, whose RetentionExpired (just before it) already marked it done;
      // the subject's other activities keep their deadlines.
      if (event.type === 'SubjectKeyShredded') return event.data.cause === 'RETENTION_EXPIRED' ? [] : [{ kind: 'shredded', subject: event.data.subject.value, atMicros: event.data.occurredAt }];
      return [];
    },
    prepare(changes, prefix) {
      const statements: Array<[string, unknown[]]> = [];
      for (const phase of retentionPhases(changes)) {
        if (phase.due.length > 0) {
          // A later disclosure moves the deadline on and re-opens a rule that had run out.
          statements.push([
            withPrefix(
              `INSERT INTO {prefix}retention_schedule AS r (subject, activity, rule_id, deadline, last_event_at)
               SELECT u.subject, u.activity, u.rule_id, u.deadline, to_timestamp(u.last_event / 1000000)
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::double precision[]) AS u(subject, activity, rule_id, deadline, last_event)
               ON CONFLICT (subject, activity, rule_id) DO UPDATE SET
                 deadline = GREATEST(r.deadline, excluded.deadline),
                 last_event_at = GREATEST(r.last_event_at, excluded.last_event_at),
                 done_at = CASE WHEN excluded.last_event_at > r.done_at THEN NULL ELSE r.done_at END,
                 done_by = CASE WHEN excluded.last_event_at > r.done_at THEN NULL ELSE r.done_by END`,
              prefix,
            ),
            columns(phase.due, (c) => c.subject, (c) => c.activity, (c) => c.ruleId, (c) => c.deadline.toISOString(), (c) => c.lastEventMicros),
          ]);
        }
        // `subject = ANY(...)` lets the primary key find the rows whatever the planner thinks of the
        // join (a fresh table has no statistics yet, and a hash join would scan all of it).
        if (phase.expired.length > 0) {
          // Everything of the activity that occurred up to coversUntil is expired (the details' key is shredded).
          statements.push([
            withPrefix(
              `UPDATE {prefix}retention_schedule r SET done_at = to_timestamp(u.at / 1000000), done_by = 'RetentionExpired'
                 FROM unnest($1::text[], $2::text[], $3::double precision[], $4::double precision[]) AS u(subject, activity, at, covers_until)
                WHERE r.subject = ANY($1::text[]) AND r.subject = u.subject AND r.activity = u.activity AND r.last_event_at <= to_timestamp(u.covers_until / 1000000) AND r.done_at IS NULL`,
              prefix,
            ),
            columns(phase.expired, (c) => c.subject, (c) => c.activity, (c) => c.atMicros, (c) => c.coversUntilMicros),
          ]);
        }
        if (phase.shredded.length > 0) {
          statements.push([
            withPrefix(
              `UPDATE {prefix}retention_schedule r SET done_at = to_timestamp(u.at / 1000000), done_by = 'SubjectKeyShredded'
                 FROM unnest($1::text[], $2::double precision[]) AS u(subject, at)
                WHERE r.subject = ANY($1::text[]) AND r.subject = u.subject AND r.done_at IS NULL`,
              prefix,
            ),
            columns(phase.shredded, (c) => c.subject, (c) => c.atMicros),
          ]);
        }
      }
      return inOrder(statements);
    },
  });
}

type Due = Extract<RetentionChange, { kind: 'due' }>;
type Expired = Extract<RetentionChange, { kind: 'expired' }>;
type Shredded = Extract<RetentionChange, { kind: 'shredded' }>;

/**
 * A batch as a few set-based steps with the effect of applying its changes one by one. Changes of
 * different subjects never touch the same rows, so only each subject's own order matters: a
 * subject's k-th expiry or shredding goes into phase 2k+1, its disclosures before it (and after the
 * previous one) into phase 2k. Within an even phase the disclosures are merged per
 * (subject, activity, rule) — latest deadline, latest event — as successive upserts would leave
 * them; an odd phase holds at most one expiry or shredding per subject.
 */
export function retentionPhases(changes: readonly RetentionChange[]): Array<{ due: Due[]; expired: Expired[]; shredded: Shredded[] }> {
  const phases: Array<{ due: Map<string, Due>; expired: Expired[]; shredded: Shredded[] }> = [];
  const phaseOf = new Map<string, number>();
  const at = (i: number) => (phases[i] ??= { due: new Map(), expired: [], shredded: [] });
  for (const c of changes) {
    const p = phaseOf.get(c.subject) ?? 0;
    if (c.kind === 'due') {
      const due = at(p).due;
      const key = `${c.activity}\u0000${c.ruleId}\u0000${c.subject}`;
      const m = due.get(key);
      due.set(
        key,
        m
          ? {
              ...m,
              deadline: c.deadline.getTime() > m.deadline.getTime() ? c.deadline : m.deadline,
              lastEventMicros: Math.max(m.lastEventMicros, c.lastEventMicros),
            }
          : c,
      );
      continue;
    }
    if (c.kind === 'expired') at(p + 1).expired.push(c);
    else at(p + 1).shredded.push(c);
    phaseOf.set(c.subject, p + 2);
  }
  return phases.filter(Boolean).map((p) => ({ due: [...p.due.values()], expired: p.expired, shredded: p.shredded }));
}
