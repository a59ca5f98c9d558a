import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEventStore, type EventStore, type EventToAppend } from '@sporbar/event-store';
import { allProjections, createProjectionRunner, createReadModelTables, fromPglite, rebuildReadModels, type ProjectionRunner, type SqlDatabase } from '@sporbar/projections';
import { register, type DisclosureRecorded } from '@sporbar/schemas';
import { buildApp, devPublicKey, devToken } from '../src/index.ts';
import { pseudonymiser } from './helpers.ts';
import { codec, disclosureOf, stored } from '../../../projections/test/support/disclosures.ts';

/**
 * GET /v1/alerts shows the producer the ingest authenticated for each alerted disclosure (metadata
 * `producer`), over real read models (PGlite) projected from a real store; a rebuild reproduces it,
 * and read-model tables made before the column get it (null until rebuilt).
 */
const consentFlow = register.activities.flatMap((a) => a.flows.map((flow) => ({ activity: a.id, flow }))).find(({ flow }) => flow.consentScopes.length > 0)!;
const withProducer = (d: DisclosureRecorded, producer?: string): EventToAppend => {
  const e = stored(d);
  return producer ? { ...e, metadata: { ...e.metadata, producer } } : e;
};

let pglite: PGlite;
let db: SqlDatabase;
let store: EventStore;
let runner: ProjectionRunner;
let app: FastifyInstance;
let prefix = 'rm_';
const undeclared = disclosureOf('u', { recipient: { id: 'nobody-declared', role: 'PROCESSOR' }, occurredAt: Date.UTC(2026, 0, 12) * 1000 });
const noConsent = disclosureOf('c', {
  activity: consentFlow.activity,
  sourceSystem: 'mitid-support',
  recipient: { id: consentFlow.flow.recipientId, role: consentFlow.flow.roles[0]! },
  purpose: consentFlow.flow.purposeIds[0]!,
  legalBases: [...consentFlow.flow.legalBases],
  dataCategories: consentFlow.flow.categoryIds.slice(0, 1),
  occurredAt: Date.UTC(2026, 0, 11) * 1000,
});
const legacy = disclosureOf('l', { recipient: { id: 'nobody-declared', role: 'PROCESSOR' }, occurredAt: Date.UTC(2026, 0, 10) * 1000 });
const declared = disclosureOf('d');

beforeAll(async () => {
  pglite = new PGlite();
  db = fromPglite(pglite);
  store = await createPgliteEventStore({ db: pglite });
  // Two alerts from authenticated producers, one stored before producer authentication (no producer), one declared disclosure (no alert).
  for (const e of [withProducer(legacy), withProducer(noConsent, 'mitid-support'), withProducer(undeclared, 'mitid-core'), withProducer(declared, 'mitid-core')]) await store.append('alerts-test', [e]);
  runner = createProjectionRunner({ store, db, codec, projections: allProjections(register) });
  await runner.start();
  await runner.waitFor(await store.headPosition());
  app = await buildApp({
    readModels: { db, prefix: () => prefix },
    register,
    pseudonymiser,
    views: { recordReportViewed: async () => ({ eventId: '00000000-0000-4000-8000-000000000000', eventType: 'ReportViewed' }) },
    jwtPublicKey: devPublicKey(),
    production: false,
    logger: false,
  });
});
afterAll(async () => {
  await app?.close();
  await runner?.stop();
  await store?.close();
  await pglite?.close();
});

const alerts = async () => {
  const res = await app.inject({ method: 'GET', url: '/v1/alerts?limit=100', headers: { authorization: `Bearer ${devToken({ role: 'dpo', sub: 'dpo-1' })}` } });
  expect(res.statusCode).toBe(200);
  return (res.json() as { items: Array<{ eventId: string; reasons: string[]; producer: string | null }> }).items;
};

describe('GET /v1/alerts names the producer of each alerted disclosure', () => {
  it('undeclared and consent-missing alerts carry the authenticated producer; one stored without a producer shows null', async () => {
    expect((await alerts()).map((a) => ({ eventId: a.eventId, reasons: a.reasons, producer: a.producer }))).toEqual([
      { eventId: undeclared.eventId, reasons: ['RECIPIENT_NOT_DECLARED'], producer: 'mitid-core' },
      { eventId: noConsent.eventId, reasons: ['CONSENT_MISSING'], producer: 'mitid-support' },
      { eventId: legacy.eventId, reasons: ['RECIPIENT_NOT_DECLARED'], producer: null },
    ]);
  });

  it('a rebuild reproduces the alerts, producer included', async () => {
    const before = await alerts();
    const rebuilt = await rebuildReadModels({ store, db, codec, projections: allProjections(register) });
    await rebuilt.runner.stop();
    expect(rebuilt.prefix).not.toBe(prefix);
    prefix = rebuilt.prefix;
    expect(await alerts()).toEqual(before);
  });

  it('read-model tables made before alerts carried the producer get the column (null in their rows until a rebuild)', async () => {
    const old = 'rm_old_';
    await db.query(`CREATE TABLE ${old}compliance_alerts (event_id uuid PRIMARY KEY, position bigint NOT NULL, subject text NOT NULL, occurred_at timestamptz NOT NULL, activity text NOT NULL, recipient_id text NOT NULL, purpose text NOT NULL, reasons text[] NOT NULL)`);
    await db.query(`INSERT INTO ${old}compliance_alerts VALUES ($1, 1, 'psn_k1_x', now(), 'mitid-core', 'nobody-declared', 'p', '{RECIPIENT_NOT_DECLARED}')`, [undeclared.eventId]);
    await createReadModelTables(db, allProjections(register), old);
    prefix = old;
    expect((await alerts()).map((a) => a.producer)).toEqual([null]);
  });
});
