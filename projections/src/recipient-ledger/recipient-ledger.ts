import { columns } from '../batch.ts';
import { inOrder, preparedProjection, withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

/** Per recipient and purpose, how many disclosures a day (for the DPO). */
export interface LedgerChange {
  readonly recipientId: string;
  readonly purpose: string;
  readonly activity: string;
  /** UTC day, YYYY-MM-DD. */
  readonly day: string;
  readonly undeclared: boolean;
}

export function projectLedger(event: ProjectedEvent): LedgerChange[] {
  if (event.type !== 'DisclosureRecorded') return [];
  const d = event.data;
  return [
    {
      recipientId: d.recipient.id,
      purpose: d.purpose,
      activity: d.activity,
      day: new Date(Math.floor(d.occurredAt / 1000)).toISOString().slice(0, 10),
      undeclared: event.metadata['classification'] === 'undeclared',
    },
  ];
}

export const recipientLedger: Projection<LedgerChange> = preparedProjection<LedgerChange>({
  name: 'recipient-ledger',
  tables: ['recipient_daily'],
  ddl: [
    `CREATE TABLE IF NOT EXISTS {prefix}recipient_daily (
      recipient_id text NOT NULL,
      purpose text NOT NULL,
      activity text NOT NULL,
      day date NOT NULL,
      disclosures bigint NOT NULL,
      undeclared bigint NOT NULL,
      PRIMARY KEY (recipient_id, day, purpose, activity)
    )`,
  ],
  project: projectLedger,
  prepare(changes, prefix) {
    // Sum the batch first, so each (recipient, day, purpose, activity) occurs once in the one upsert.
    const sums = new Map<string, { c: LedgerChange; n: number; u: number }>();
    for (const c of changes) {
      const key = `${c.recipientId}\u0000${c.day}\u0000${c.purpose}\u0000${c.activity}`;
      const s = sums.get(key) ?? { c, n: 0, u: 0 };
      s.n++;
      if (c.undeclared) s.u++;
      sums.set(key, s);
    }
    return inOrder([
      [
        withPrefix(
          `INSERT INTO {prefix}recipient_daily AS r (recipient_id, purpose, activity, day, disclosures, undeclared)
           SELECT u.recipient_id, u.purpose, u.activity, u.day::date, u.n, u.u
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS u(recipient_id, purpose, activity, day, n, u)
           ON CONFLICT (recipient_id, day, purpose, activity) DO UPDATE SET disclosures = r.disclosures + excluded.disclosures, undeclared = r.undeclared + excluded.undeclared`,
          prefix,
        ),
        columns([...sums.values()], (s) => s.c.recipientId, (s) => s.c.purpose, (s) => s.c.activity, (s) => s.c.day, (s) => s.n, (s) => s.u),
      ],
    ]);
  },
});
