import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPgliteEventStore, type EventStore, type RecordedEvent } from '@sporbar/event-store';
import { createInProcessTransport, createProducer, type OutgoingMessage, type Producer } from '@sporbar/producer';
import { createCodec, createPseudonymiser, createSubjectOpener, generateSealKeyPair, register, type DisclosureRecorded } from '@sporbar/schemas';
import { createIngest, createSqlDeadLetterSink, subjectStream, type Ingest } from '../src/index.ts';

const CPR = '240365-1187';
const codec = createCodec();
const pseudonymiser = createPseudonymiser({ id: 't1', secret: randomBytes(32).toString('base64url') });
let pglite: PGlite;
let store: EventStore;
let ingest: Ingest;
let producer: Producer;
let captured: OutgoingMessage[];
let deadLetters: Awaited<ReturnType<typeof createSqlDeadLetterSink>>;

beforeEach(async () => {
  const keys = await generateSealKeyPair();
  pglite = await PGlite.create();
  store = await createPgliteEventStore({ db: pglite });
  deadLetters = await createSqlDeadLetterSink(pglite);
  ingest = createIngest({ codec, store, register, pseudonymiser, opener: createSubjectOpener(keys.privateKey), deadLetters });
  captured = [];
  producer = createProducer({
    transport: createInProcessTransport(async (m) => {
      captured.push(...m);
      await ingest.handle(m.map((x) => ({ value: x.value, headers: x.headers, origin: 'in-process' })));
    }),
    sealPublicKey: keys.publicKey,
    routingSecret: randomBytes(32).toString('base64url'),
    sourceSystem: 'mitid-core',
  });
});

afterEach(async () => {
  await store.close();
  await pglite.close();
});

const all = async (): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  for await (const e of store.readAll()) out.push(e);
  return out;
};

const flow = register.activities.find((a) => a.id === 'mitid-core')!.flows[0]!;
const declared = {
  subject: { cpr: CPR },
  activity: 'mitid-core',
  recipient: { id: flow.recipientId, role: flow.roles[0] },
  purpose: flow.purposeIds[0]!,
  legalBases: [...flow.legalBases],
  dataCategories: [...flow.categoryIds],
};

describe('ingest', () => {
  it('stores a disclosure under the subject pseudonym, classified as declared', async () => {
    const { eventId } = await producer.recordDisclosure(declared);
    const [stored] = await all();
    expect(stored!.eventId).toBe(eventId);
    expect(stored!.streamName).toBe(subjectStream(pseudonymiser.pseudonym(CPR)));
    expect(stored!.metadata).toMatchObject({ classification: 'declared', flow: flow.id, fingerprint: codec.fingerprintHex('DisclosureRecorded') });
    const event = codec.decode(stored!.data).event as DisclosureRecorded;
    expect(event.subject).toEqual({ scheme: 'PSEUDONYM', value: pseudonymiser.pseudonym(CPR) });
    expect(Buffer.from(stored!.data).toString('latin1')).not.toContain('2403651187');
  });

  it('keeps and flags an undeclared disclosure with its reasons', async () => {
    await producer.recordDisclosure({ ...declared, recipient: { id: 'akamai-denmark', role: 'PROCESSOR' }, activity: 'nemkonto-register' });
    const [stored] = await all();
    expect(stored!.metadata['classification']).toBe('undeclared');
    expect(stored!.metadata['reasons']).toMatch(/RECIPIENT_NOT_DECLARED/);
  });

  it('stores a re-delivered message once and reports the duplicate', async () => {
    await producer.recordDisclosure(declared);
    const again = captured.map((m) => ({ value: m.value, headers: m.headers, origin: 'redelivery' }));
    expect(await ingest.handle(again)).toEqual({ appended: 0, duplicates: 1, deadLettered: 0 });
    expect(await all()).toHaveLength(1);
  });

  it('dead-letters bad bytes with the reason, keeps the original, and stores the good ones of the batch', async () => {
    await producer.recordDisclosure(declared);
    const good = captured[0]!;
    const other = await producer.recordDisclosure({ ...declared, subject: { cpr: '010101-0101' } });
    const goodTwo = captured[1]!;
    const wrongKeySeal = Buffer.from(goodTwo.value);
    const at = wrongKeySeal.indexOf(Buffer.from('s1.'));
    wrongKeySeal[at + 60] = wrongKeySeal[at + 60] === 0x41 ? 0x42 : 0x41; // corrupt the sealed subject
    const result = await ingest.handle([
      { value: Buffer.from('not avro at all'), headers: { 'sporbar-event-type': 'DisclosureRecorded' }, origin: 'sporbar.disclosures/0/17' },
      { value: good.value.subarray(0, 40), headers: {}, origin: 'sporbar.disclosures/0/18' },
      { value: wrongKeySeal, headers: {}, origin: 'sporbar.disclosures/0/19' },
      { value: good.value, headers: good.headers, origin: 'sporbar.disclosures/0/20' },
    ]);
    expect(result).toEqual({ appended: 0, duplicates: 1, deadLettered: 3 });
    const { rows } = await pglite.query<{ reason_code: string; origin: string; original: Uint8Array; reason: string }>('SELECT reason_code, origin, original, reason FROM dead_letters ORDER BY id');
    expect(rows.map((r) => [r.reason_code, r.origin])).toEqual([
      ['SPB_ERR_BAD_MAGIC', 'sporbar.disclosures/0/17'],
      ['SPB_ERR_TRUNCATED', 'sporbar.disclosures/0/18'],
      ['SPB_ERR_MALFORMED_BODY', 'sporbar.disclosures/0/19'],
    ]);
    expect(Buffer.from(rows[0]!.original).toString()).toBe('not avro at all');
    expect(rows[2]!.reason).toMatch(/sealed subject/);
    expect(await deadLetters.count()).toBe(3);
    expect((await all()).map((e) => e.eventId)).toContain(other.eventId);
  });
});
