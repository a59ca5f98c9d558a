import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '@sporbar/schemas';
import { devToken } from '@sporbar/access-api';
import { generateTraffic, startEmbeddedSystem, syntheticCprs, type EmbeddedSystem } from '../src/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sporbar-e2e-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Report {
  subject: string;
  totalDisclosures: number;
  recipients: Array<{
    recipient: { id: string; name: string; role: string; declaredInRegister: boolean };
    purposes: Array<{ id: string; name: string }>;
    legalBases: Array<{ id: string; name: string }>;
    dataCategories: Array<{ id: string; name: string }>;
    disclosures: number;
    firstAt: string;
    lastAt: string;
  }>;
}

const report = async (system: EmbeddedSystem, ref: string): Promise<Report> => {
  const res = await system.app.inject({
    method: 'GET',
    url: `/v1/subjects/${ref}/disclosures?reason=CASE-2026-17`,
    headers: { authorization: `Bearer ${devToken({ role: 'caseworker', sub: 'cw-1' })}` },
  });
  expect(res.statusCode).toBe(200);
  return res.json() as Report;
};

describe('embedded default, end to end: SDK → ingest → PGlite store → projection → API', () => {
  const cpr = '120488-2231';
  const mitid = register.activities.find((a) => a.id === 'mitid-core')!;
  const broker = mitid.flows.find((f) => f.recipientId === 'mitid-broker')!;
  const akamai = mitid.flows.find((f) => f.recipientId === 'akamai-denmark')!;

  it('answers "who received my data and why", grouped by recipient', async () => {
    const system = await startEmbeddedSystem({ dataDir });
    try {
      const login = (at: string, flow: typeof broker) =>
        system.producer.recordDisclosure({
          subject: { cpr },
          activity: 'mitid-core',
          recipient: { id: flow.recipientId, role: flow.roles[0] },
          purpose: flow.purposeIds[0]!,
          legalBases: [...flow.legalBases],
          dataCategories: [...flow.categoryIds],
          occurredAt: new Date(at),
        });
      await login('2026-10-01T08:00:00Z', broker);
      await login('2026-10-01T08:00:00Z', akamai);
      await login('2026-11-02T19:30:00Z', broker);
      await system.settle();

      const ref = system.pseudonymiser.pseudonym(cpr);
      const body = await report(system, ref);
      expect(body.subject).toBe(ref);
      expect(body.totalDisclosures).toBe(3);
      expect(body.recipients.map((r) => [r.recipient.id, r.disclosures])).toEqual([
        ['mitid-broker', 2],
        ['akamai-denmark', 1],
      ]);
      const b = body.recipients[0]!;
      expect(b.firstAt).toBe('2026-10-01T08:00:00.000Z');
      expect(b.lastAt).toBe('2026-11-02T19:30:00.000Z');
      expect(b.recipient.declaredInRegister).toBe(true);
      expect(b.purposes.map((p) => p.id)).toEqual([broker.purposeIds[0]]);
      expect(b.legalBases.map((l) => l.id).sort()).toEqual([...broker.legalBases].sort());
      expect(b.legalBases.every((l) => l.name !== l.id)).toBe(true); // titles come from the register
      expect(b.dataCategories.map((c) => c.id).sort()).toEqual([...broker.categoryIds].sort());
      expect(body.recipients[1]!.recipient.name).toMatch(/Akamai/);
      // Nothing in the answer is the CPR number.
      expect(JSON.stringify(body)).not.toMatch(/120488/);
    } finally {
      await system.close();
    }
  });

  it('keeps the data across a restart and does not project anything twice', async () => {
    const system = await startEmbeddedSystem({ dataDir });
    try {
      await system.settle();
      const body = await report(system, system.pseudonymiser.pseudonym(cpr));
      expect(body.totalDisclosures).toBe(3);
    } finally {
      await system.close();
    }
  });

  it('serves a non-empty report for generated traffic from the register', async () => {
    const system = await startEmbeddedSystem({});
    try {
      const seeded = await generateTraffic(system.producer, register, { subjects: 20, transactions: 150 });
      await system.settle();
      expect(seeded.disclosures).toBeGreaterThan(150);
      let total = 0;
      const recipients = new Set<string>();
      for (const cpr of syntheticCprs(20, 2026)) {
        const body = await report(system, system.pseudonymiser.pseudonym(cpr));
        total += body.totalDisclosures;
        body.recipients.forEach((r) => recipients.add(r.recipient.id));
      }
      expect(total).toBe(seeded.disclosures);
      for (const id of ['mitid-broker', 'akamai-denmark', 'danish-tax-authority']) expect(recipients).toContain(id);
    } finally {
      await system.close();
    }
  });

  it('rebuilds every read model from position 0 into fresh tables and switches over, answering the same', async () => {
    const system = await startEmbeddedSystem({ dataDir });
    try {
      await system.settle();
      const ref = system.pseudonymiser.pseudonym(cpr);
      const before = await report(system, ref);
      const oldPrefix = system.readModels.prefix();
      const { events } = await system.rebuild();
      expect(events).toBeGreaterThan(0n);
      expect(system.readModels.prefix()).not.toBe(oldPrefix);
      expect(await report(system, ref)).toEqual(before);
      const { rows } = await system.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE '${oldPrefix}%' AND tablename NOT LIKE '${system.readModels.prefix()}%'`);
      expect(rows[0]!.n).toBe(0); // the old tables are gone
      // New events keep flowing into the rebuilt read models.
      await system.producer.recordDisclosure({
        subject: { cpr },
        activity: 'mitid-core',
        recipient: { id: broker.recipientId, role: broker.roles[0] },
        purpose: broker.purposeIds[0]!,
        legalBases: [...broker.legalBases],
        dataCategories: [...broker.categoryIds],
      });
      await system.settle();
      expect((await report(system, ref)).totalDisclosures).toBe(before.totalDisclosures + 1);
    } finally {
      await system.close();
    }
  });

  it('refuses a malformed reference with a 400 and a code', async () => {
    const system = await startEmbeddedSystem({});
    try {
      const res = await system.app.inject({
        method: 'GET',
        url: "/v1/subjects/1204882231' OR 1=1/disclosures?reason=CASE-1",
        headers: { authorization: `Bearer ${devToken({ role: 'caseworker' })}` },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'SPB_ERR_BAD_REQUEST' });
    } finally {
      await system.close();
    }
  });
});
