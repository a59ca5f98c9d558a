import { randomBytes, randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPgliteEventStore, type EventStore, type RecordedEvent } from '@sporbar/event-store';
import { developmentProducerKey, createInProcessTransport, createProducer, type OutgoingMessage, type Producer } from '@sporbar/producer';
import { createCodec, register, type DisclosureRecorded } from '@sporbar/schemas';
import { pgliteSqlClient } from '@sporbar/common/sql';
import { developmentProducerRegistry, createPseudonymiser, createSubjectKeyStore, createSubjectOpener, createSubjectSealer, generateMasterKeySecret, generateSealKeyPair, keyScope, parseMasterKey, type SubjectKeyStore, migrateSubjectKeys } from '@sporbar/key-store';
import { createIngest, createSqlDeadLetterSink, subjectStream, type Ingest } from '../src/index.ts';
import { signedBy } from './support.ts';

const CPR = '240365-1187';
const codec = createCodec();
const T1_SECRET = randomBytes(32).toString('base64url');
const pseudonymiser = createPseudonymiser({ id: 't1', secret: T1_SECRET });
let pglite: PGlite;
let store: EventStore;
let ingest: Ingest;
let producer: Producer;
let captured: OutgoingMessage[];
let deadLetters: Awaited<ReturnType<typeof createSqlDeadLetterSink>>;
let keys: SubjectKeyStore;
let sealKeys: Awaited<ReturnType<typeof generateSealKeyPair>>;

beforeEach(async () => {
  sealKeys = await generateSealKeyPair();
  pglite = await PGlite.create();
  store = await createPgliteEventStore({ db: pglite });
  deadLetters = await createSqlDeadLetterSink(pglite);
  keys = createSubjectKeyStore({ db: pglite, masterKey: parseMasterKey({ id: 'm1', secret: generateMasterKeySecret() }) });
  await migrateSubjectKeys(pgliteSqlClient(pglite));
  ingest = createIngest({ producers: developmentProducerRegistry(), codec, store, register, pseudonymiser, keys, opener: createSubjectOpener(sealKeys.privateKey), deadLetters });
  captured = [];
  producer = createProducer({
    transport: createInProcessTransport(async (m) => {
      captured.push(...m);
      await ingest.handle(m.map((x) => ({ value: x.value, headers: x.headers, origin: 'in-process' })));
    }),
    sealPublicKey: sealKeys.publicKey,
    routingSecret: randomBytes(32).toString('base64url'),
    // A producer the development registry allows every activity and erasures (the tests below need both).
    producerKey: developmentProducerKey('embedded-demo'),
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
  it('stores personal details encrypted under the subject key, and erasure shreds that key for good', async () => {
    const details = { ipAddress: '192.0.2.44', freeText: 'called about a blocked app' };
    const { eventId } = await producer.recordDisclosure({ ...declared, personalDetails: { ipAddress: details.ipAddress } });
    const stored = (await all())[0]!;
    const raw = Buffer.from(stored.data).toString('latin1');
    expect(raw).not.toContain('192.0.2.44');
    const event = codec.decode(stored.data).event as DisclosureRecorded;
    expect(event.dataCategories).toContain('ip-address'); // the detail names its own category
    const psn = pseudonymiser.pseudonym(CPR);
    expect(await keys.decrypt(keyScope(psn, 'mitid-core'), eventId, event.personalDetails!)).toMatchObject({ status: 'ok', details: { ipAddress: '192.0.2.44' } });

    const erasure = await producer.requestErasure({ subject: { cpr: CPR }, reason: 'Art. 17 request, Digital Post 2026-11-20' });
    const log = await all();
    const shredded = log.filter((e) => e.type === 'SubjectKeyShredded');
    expect(shredded).toHaveLength(1);
    expect(codec.decode(shredded[0]!.data).event).toMatchObject({ cause: 'ERASURE_REQUESTED', causationEventId: erasure.eventId, subject: { scheme: 'PSEUDONYM', value: psn } });
    const after = await keys.decrypt(keyScope(psn, 'mitid-core'), eventId, event.personalDetails!);
    expect(after.status).toBe('shredded');
    // The stored bytes did not change: proofs over them still hold.
    expect(Buffer.from(log.find((e) => e.eventId === eventId)!.data).equals(Buffer.from(stored.data))).toBe(true);
    // Re-delivery of the erasure request derives the same SubjectKeyShredded: nothing doubles.
    const again = captured.filter((m) => m.headers['sporbar-event-type'] === 'ErasureRequested').map((m) => ({ value: m.value, headers: m.headers, origin: 'redelivery' }));
    await ingest.handle(again);
    expect((await all()).filter((e) => e.type === 'SubjectKeyShredded')).toHaveLength(1);
    // Later disclosures are new data under a new key, readable.
    const later = await producer.recordDisclosure({ ...declared, personalDetails: details });
    const laterEvent = codec.decode((await all()).find((e) => e.eventId === later.eventId)!.data).event as DisclosureRecorded;
    expect(await keys.decrypt(keyScope(psn, 'mitid-core'), later.eventId, laterEvent.personalDetails!)).toMatchObject({ status: 'ok', details });
  });

  it('after a pseudonym key rotation, an erasure shreds the data keys under the old and the new pseudonym', async () => {
    const before = await producer.recordDisclosure({ ...declared, personalDetails: { ipAddress: '192.0.2.1' } });
    // The rotated ingest: t2 current, t1 (what was stored before) previous.
    const rotated = createPseudonymiser({ id: 't2', secret: randomBytes(32).toString('base64url') }, [{ id: 't1', secret: T1_SECRET }]);
    const ingest2 = createIngest({ producers: developmentProducerRegistry(), codec, store, register, pseudonymiser: rotated, keys, opener: createSubjectOpener(sealKeys.privateKey), deadLetters });
    const producer2 = createProducer({
      transport: createInProcessTransport(async (m) => void (await ingest2.handle(m.map((x) => ({ value: x.value, headers: x.headers, origin: 'in-process' }))))),
      sealPublicKey: sealKeys.publicKey,
      routingSecret: randomBytes(32).toString('base64url'),
      producerKey: developmentProducerKey('embedded-demo'),
    });
    const after = await producer2.recordDisclosure({ ...declared, personalDetails: { ipAddress: '192.0.2.2' } });
    const [oldPsn, newPsn] = [pseudonymiser.pseudonym(CPR), rotated.pseudonym(CPR)];
    expect(rotated.all(CPR)).toEqual([newPsn, oldPsn]);
    const blob = async (eventId: string) => (codec.decode((await all()).find((e) => e.eventId === eventId)!.data).event as DisclosureRecorded).personalDetails!;
    expect(await keys.decrypt(keyScope(oldPsn, 'mitid-core'), before.eventId, await blob(before.eventId))).toMatchObject({ status: 'ok' });

    const erasure = await producer2.requestErasure({ subject: { cpr: CPR }, reason: 'Art. 17 request after a key rotation' });
    const shredded = (await all()).filter((e) => e.type === 'SubjectKeyShredded');
    expect(shredded.map((e) => e.streamName).sort()).toEqual([subjectStream(newPsn), subjectStream(oldPsn)].sort());
    for (const e of shredded) expect(codec.decode(e.data).event).toMatchObject({ cause: 'ERASURE_REQUESTED', causationEventId: erasure.eventId, subject: { value: e.streamName.slice('subject-'.length) } });
    expect((await keys.decrypt(keyScope(oldPsn, 'mitid-core'), before.eventId, await blob(before.eventId))).status).toBe('shredded');
    expect((await keys.decrypt(keyScope(newPsn, 'mitid-core'), after.eventId, await blob(after.eventId))).status).toBe('shredded');
  });

  it('stores a disclosure under the subject pseudonym, classified as declared', async () => {
    const { eventId } = await producer.recordDisclosure(declared);
    const [stored] = await all();
    expect(stored!.eventId).toBe(eventId);
    expect(stored!.streamName).toBe(subjectStream(pseudonymiser.pseudonym(CPR)));
    expect(stored!.metadata).toMatchObject({ classification: 'declared', flow: flow.id, fingerprint: codec.fingerprintHex('DisclosureRecorded') });
    // The metadata's fingerprint is the stored bytes' own 2..9, in their order (little-endian), as the producer's header.
    expect(stored!.metadata['fingerprint']).toBe(Buffer.from(stored!.data).subarray(2, 10).toString('hex'));
    const event = codec.decode(stored!.data).event as DisclosureRecorded;
    expect(event.subject).toEqual({ scheme: 'PSEUDONYM', value: pseudonymiser.pseudonym(CPR) });
    expect(Buffer.from(stored!.data).toString('latin1')).not.toContain('2403651187');
  });

  it('stores the authenticated producer id with the event, and dead-letters what the producer may not send', async () => {
    await producer.recordDisclosure(declared);
    expect((await all())[0]!.metadata).toMatchObject({ producer: 'embedded-demo' });
    const sent: OutgoingMessage[] = [];
    const mitid = createProducer({ transport: createInProcessTransport(async (m) => void sent.push(...m)), sealPublicKey: (await generateSealKeyPair()).publicKey, routingSecret: randomBytes(32).toString('base64url'), producerKey: developmentProducerKey('mitid-core') });
    await mitid.recordDisclosure({ ...declared, activity: 'nemkonto-register' }); // MitID records MitID activities only
    await mitid.requestErasure({ subject: { cpr: CPR }, reason: 'not granted to mitid-core' });
    const result = await ingest.handle(sent.map((m, i) => ({ value: m.value, headers: m.headers, origin: `sporbar.disclosures/0/${i}` })));
    expect(result).toEqual({ appended: 0, duplicates: 0, deadLettered: 2 });
    const { rows } = await pglite.query<{ reason_code: string; reason: string }>('SELECT reason_code, reason FROM dead_letters ORDER BY id');
    expect(rows.map((r) => r.reason_code)).toEqual(['SPB_ERR_NOT_ALLOWED', 'SPB_ERR_NOT_ALLOWED']);
    expect(rows[0]!.reason).toMatch(/nemkonto-register/);
    expect(rows[1]!.reason).toMatch(/ErasureRequested/);
    expect(await all()).toHaveLength(1);
  });

  it('keeps and flags an undeclared disclosure with its reasons', async () => {
    await producer.recordDisclosure({ ...declared, recipient: { id: 'akamai-denmark', role: 'PROCESSOR' }, activity: 'nemkonto-register' });
    const [stored] = await all();
    expect(stored!.metadata['classification']).toBe('undeclared');
    expect(stored!.metadata['reasons']).toMatch(/RECIPIENT_NOT_DECLARED/);
  });

  it('opens a subject envelope the producer reused only once, and stores every event under the same pseudonym', async () => {
    const sealKeys = await generateSealKeyPair();
    const real = createSubjectOpener(sealKeys.privateKey);
    let opened = 0;
    const opener = { open: (envelope: string) => (opened++, real.open(envelope)), openBytes: (b: Uint8Array) => real.openBytes(b) };
    const counted = createIngest({ producers: developmentProducerRegistry(), codec, store, register, pseudonymiser, keys, opener, deadLetters });
    const sent: OutgoingMessage[] = [];
    const p = createProducer({ transport: createInProcessTransport(async (m) => void sent.push(...m)), sealPublicKey: sealKeys.publicKey, routingSecret: randomBytes(32).toString('base64url'), producerKey: developmentProducerKey('mitid-core') });
    // One login, several disclosures at once: the SDK seals the subject once for all of them.
    await Promise.all([1, 2, 3].map((n) => p.recordDisclosure({ ...declared, personalDetails: { ipAddress: `192.0.2.${n}` } })));
    const envelopes = sent.map((m) => (codec.decode(m.value).event as DisclosureRecorded).subject.value);
    expect(new Set(envelopes).size).toBe(1);
    expect(envelopes[0]).toMatch(/^s1\./);
    expect(await counted.handle(sent.map((m) => ({ value: m.value, headers: m.headers, origin: 'in-process' })))).toEqual({ appended: 3, duplicates: 0, deadLettered: 0 });
    expect(opened).toBe(1);
    const stored = await all();
    expect(stored.map((e) => e.streamName)).toEqual(Array(3).fill(subjectStream(pseudonymiser.pseudonym(CPR))));
    // Details are still per event: each opens under the subject key to its own value.
    const psn = pseudonymiser.pseudonym(CPR);
    const ips = await Promise.all(stored.map(async (e) => keys.decrypt(keyScope(psn, 'mitid-core'), e.eventId, (codec.decode(e.data).event as DisclosureRecorded).personalDetails!)));
    expect(ips.map((r) => (r.status === 'ok' ? r.details.ipAddress : r.status)).sort()).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  });

  it('dead-letters sealed details that are not a JSON object, name an unknown field or hold a control character, and stores the good one', async () => {
    const sealKeys = await generateSealKeyPair();
    const sealer = createSubjectSealer(sealKeys.publicKey);
    const own = createIngest({ producers: developmentProducerRegistry(), codec, store, register, pseudonymiser, keys, opener: createSubjectOpener(sealKeys.privateKey), deadLetters });
    const withDetails = async (plain: string) =>
      codec.encode('DisclosureRecorded', {
        eventId: randomUUID(),
        occurredAt: Date.now() * 1000,
        subject: { scheme: 'SEALED', value: await sealer.seal(CPR) },
        sourceSystem: 'mitid-core',
        controllerCvr: '34051178',
        activity: 'mitid-core',
        recipient: { id: flow.recipientId, role: flow.roles[0]! },
        purpose: flow.purposeIds[0]!,
        legalBases: [...flow.legalBases],
        dataCategories: [...flow.categoryIds, 'ip-address'],
        transfer: null,
        personalDetails: await sealer.sealBytes(Buffer.from(plain)),
        correlationId: null,
      } as DisclosureRecorded);
    const payloads = ['not json', '5', 'null', '["192.0.2.1"]', '{"shoeSize":"42"}', '{"ipAddress":7}', '{"freeText":"192.0.2.5\\u0000"}', '{"ipAddress":"192.0.2.9"}'];
    const messages = await Promise.all(
      payloads.map(async (p, i) => {
        const value = await withDetails(p);
        return { value, headers: signedBy('mitid-core', value), origin: `sporbar.disclosures/0/${i}` };
      }),
    );
    expect(await own.handle(messages)).toEqual({ appended: 1, duplicates: 0, deadLettered: 7 });
    const { rows: letters } = await pglite.query<{ origin: string; reason_code: string; reason: string }>('SELECT origin, reason_code, reason FROM dead_letters ORDER BY id');
    expect(letters.map((l) => [l.origin, l.reason_code])).toEqual([
      ['sporbar.disclosures/0/0', 'SPB_ERR_MALFORMED_BODY'],
      ['sporbar.disclosures/0/1', 'SPB_ERR_MALFORMED_BODY'],
      ['sporbar.disclosures/0/2', 'SPB_ERR_MALFORMED_BODY'],
      ['sporbar.disclosures/0/3', 'SPB_ERR_MALFORMED_BODY'],
      ['sporbar.disclosures/0/4', 'SPB_ERR_SCHEMA_INVALID'],
      ['sporbar.disclosures/0/5', 'SPB_ERR_SCHEMA_INVALID'],
      ['sporbar.disclosures/0/6', 'SPB_ERR_CONTROL_CHARACTER'], // the text rules hold inside the sealed details too
    ]);
    for (const l of letters) expect(l.reason).not.toContain('192.0.2'); // reasons never carry the details
    expect(await all()).toHaveLength(1);
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
      { value: Buffer.from('not avro at all'), headers: { 'sporbar-event-type': 'DisclosureRecorded', ...signedBy('embedded-demo', Buffer.from('not avro at all')) }, origin: 'sporbar.disclosures/0/17' },
      { value: good.value.subarray(0, 40), headers: signedBy('embedded-demo', good.value.subarray(0, 40)), origin: 'sporbar.disclosures/0/18' },
      { value: wrongKeySeal, headers: signedBy('embedded-demo', wrongKeySeal), origin: 'sporbar.disclosures/0/19' },
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

  it("authentication off (development only: the pipeline bench's other side) stores unsigned events without a producer; the normal ingest dead-letters the same bytes", async () => {
    const sent: OutgoingMessage[] = [];
    const unsigned = createProducer({ transport: createInProcessTransport(async (m) => void sent.push(...m)), sealPublicKey: sealKeys.publicKey, routingSecret: randomBytes(32).toString('base64url'), producerKey: null, sourceSystem: 'mitid-core' });
    await unsigned.recordDisclosure(declared);
    expect(Object.keys(sent[0]!.headers).filter((h) => h.startsWith('sporbar-producer') || h === 'sporbar-auth')).toEqual([]);
    const incoming = sent.map((m) => ({ value: m.value, headers: m.headers, origin: 'in-process' }));
    expect(await ingest.handle(incoming)).toEqual({ appended: 0, duplicates: 0, deadLettered: 1 });
    expect((await pglite.query<{ reason_code: string }>('SELECT reason_code FROM dead_letters')).rows).toEqual([{ reason_code: 'SPB_ERR_UNKNOWN_PRODUCER' }]);
    const off = createIngest({ producers: developmentProducerRegistry(), unauthenticatedProducers: true, codec, store, register, pseudonymiser, keys, opener: createSubjectOpener(sealKeys.privateKey), deadLetters });
    expect(await off.handle(incoming)).toEqual({ appended: 1, duplicates: 0, deadLettered: 0 });
    const [event] = await all();
    expect(event!.metadata['producer']).toBeUndefined();
    expect(event!.metadata['classification']).toBe('declared');
  });
});
