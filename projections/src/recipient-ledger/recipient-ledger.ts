import { withPrefix, type ProjectedEvent, type Projection } from '../projection.ts';

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

export const recipientLedger: Projection<LedgerChange> = {
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
  async apply(tx, changes, prefix) {
    // Sum the batch first: one upsert per (recipient, day, purpose, activity) instead of one per event.
    const sums = new Map<string, { c: LedgerChange; n: number; u: number }>();
    for (const c of changes) {
      const key = `${c.recipientId}\u0000${c.day}\u0000${c.purpose}\u0000${c.activity}`;
      const s = sums.get(key) ?? { c, n: 0, u: 0 };
      s.n++;
      if (c.undeclared) s.u++;
      sums.set(key, s);
    }
    const sql = withPrefix(
      `INSERT INTO {prefix}recipient_daily AS r (recipient_id, purpose, activity, day, disclosures, undeclared) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (recipient_id, day, purpose, activity) DO UPDATE SET disclosures = r.disclosures + excluded.disclosures, undeclared = r.undeclared + excluded.undeclared`,
      prefix,
    );
    for (const { c, n, u } of sums.values()) await tx.query(sql, [c.recipientId, c.purpose, c.activity, c.day, n, u]);
  },
};
