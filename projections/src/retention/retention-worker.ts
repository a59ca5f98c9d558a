import { deterministicUuid } from '@sporbar/schemas';
import type { Sql } from '../sql.ts';

/** Where the worker's RetentionExpired events go: the producer SDK (so they take the one path into the log). */
export interface RetentionSink {
  recordRetentionExpired(input: { eventId: string; subject: { pseudonym: string }; activity: string; retentionRule: string; coversUntil: Date }): Promise<unknown>;
}

export interface DueRetention {
  readonly subject: string;
  readonly activity: string;
  readonly ruleId: string;
  readonly deadline: Date;
  readonly coversUntil: Date;
}

/**
 * The subjects and activities whose every open retention rule has run out: their details can be
 * shredded. (Keys are per subject and activity, so the activity's longest rule decides.)
 */
export async function dueRetention(db: Sql, now: Date, prefix = 'rm_', limit = 1000): Promise<DueRetention[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT subject, activity, (array_agg(rule_id ORDER BY deadline DESC, rule_id))[1] AS rule_id, max(deadline) AS deadline, max(last_event_at) AS covers_until
       FROM ${prefix}retention_schedule WHERE done_at IS NULL
      GROUP BY subject, activity HAVING max(deadline) <= $1 ORDER BY max(deadline) LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => ({
    subject: r['subject'] as string,
    activity: r['activity'] as string,
    ruleId: r['rule_id'] as string,
    deadline: new Date(r['deadline'] as string),
    coversUntil: new Date(r['covers_until'] as string),
  }));
}

/** Retention rows past their deadline and not yet done: what is overdue right now. */
export async function overdueRetention(db: Sql, now: Date, prefix = 'rm_', limit = 500) {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT subject, activity, rule_id, deadline FROM ${prefix}retention_schedule WHERE done_at IS NULL AND deadline <= $1 ORDER BY deadline LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => ({ subject: r['subject'] as string, activity: r['activity'] as string, ruleId: r['rule_id'] as string, deadline: new Date(r['deadline'] as string).toISOString() }));
}

/**
 * Records RetentionExpired for everything due. Event ids are derived from what expires, so a second
 * run before the read model has caught up records nothing twice. The ingest shreds the key.
 */
export async function runRetention(db: Sql, sink: RetentionSink, now = new Date(), prefix = 'rm_'): Promise<number> {
  const due = await dueRetention(db, now, prefix);
  for (const d of due) {
    await sink.recordRetentionExpired({
      eventId: deterministicUuid('RetentionExpired', d.subject, d.activity, d.coversUntil.toISOString()),
      subject: { pseudonym: d.subject },
      activity: d.activity,
      retentionRule: d.ruleId,
      coversUntil: d.coversUntil,
    });
  }
  return due.length;
}

