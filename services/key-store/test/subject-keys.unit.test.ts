import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSporbarError, SporbarError } from '@sporbar/common/errors';
import { classifyDisclosure, findFlow, processingRegister, type DisclosureFacts } from '@sporbar/schemas';
import { createPseudonymiser } from '../src/index.ts';
import {
  canonicalDetails,
  type DataKey,
  decryptDetails,
  DETAIL_CATEGORY,
  DETAIL_FIELDS,
  detailCategories,
  encryptDetails,
  generateMasterKeySecret,
  type MasterKeyConfig,
  newDataKeyId,
  newDataKeys,
  parseMasterKey,
  type PersonalDetails,
  readDetailsKeyId,
  rewrap,
  subjectKeyMigrations,
  subjectKeyTable,
  unwrapDataKey,
  wrapDataKey,
  WRAPPED_KEY_BYTES,
} from '../src/subject-keys/index.ts';

const pseudonymiser = createPseudonymiser({ id: 'k1', secret: randomBytes(32).toString('base64url') });
const subject = pseudonymiser.pseudonym('010190-1234');
const otherSubject = pseudonymiser.pseudonym('020285-2468');
const eventId = '0b9d2a57-4c1e-4f0a-9a53-6f7f1f2e8c11';
const otherEventId = '5e0c7d3a-8b0e-4f7e-b2a9-3c4d5e6f7a80';
const aad = { eventId, subject };

const details: PersonalDetails = {
  ipAddress: '185.107.12.34',
  accountNumber: '9570-0012345678',
  benefitType: 'Sygedagpenge',
  freeText: 'Jeg har ikke modtaget min udbetaling af boligstøtte på min NemKonto i marts.',
  phoneNumber: '+45 20 12 34 56',
  email: 'karen.jensen@example.dk',
};

const dataKey = (): DataKey => ({ id: newDataKeyId(), key: randomBytes(32) });

function expectError(fn: () => unknown, code: SporbarError['code']): SporbarError {
  try {
    fn();
  } catch (e) {
    expect(isSporbarError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return e as SporbarError;
  }
  return expect.unreachable(`expected ${code}`);
}

describe('personal details envelope (AES-256-GCM under the subject data key)', () => {
  it('follows the documented layout and AAD, opened here with plain node:crypto (format version 1)', () => {
    const k = dataKey();
    const upper = { eventId: eventId.toUpperCase(), subject }; // the eventId is bound in lower case
    const blob = encryptDetails(k, { ipAddress: '10.0.0.1', benefitType: 'Boligstøtte' }, upper);
    const head = blob.subarray(0, 2 + k.id.length);
    const nonce = blob.subarray(head.length, head.length + 12);
    const tag = blob.subarray(blob.length - 16);
    const u32 = (n: number) => Buffer.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    const expectedAad = Buffer.concat([
      Buffer.from('sporbar/personal-details/v1\0', 'ascii'),
      head,
      u32(eventId.length),
      Buffer.from(eventId, 'utf8'),
      u32(Buffer.byteLength(subject)),
      Buffer.from(subject, 'utf8'),
    ]);
    const decipher = createDecipheriv('aes-256-gcm', k.key, nonce).setAAD(expectedAad).setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(blob.subarray(head.length + 12, blob.length - 16)), decipher.final()]);
    expect(plain).toHaveLength(64); // padded with spaces to a multiple of 64 bytes
    expect(plain.toString('utf8').trimEnd()).toBe('{"benefitType":"Boligstøtte","ipAddress":"10.0.0.1"}'); // canonical: fields in DETAIL_FIELDS order
  });

  it('round-trips every field and names its key id in the header', () => {
    const k = dataKey();
    const blob = encryptDetails(k, details, aad);
    expect(blob[0]).toBe(0x01);
    expect(blob[1]).toBe(k.id.length);
    expect(readDetailsKeyId(blob)).toBe(k.id);
    expect(decryptDetails(k, blob, aad)).toEqual(details);
    expect(decryptDetails(k, new Uint8Array(blob), aad)).toEqual(details); // PGlite hands back Uint8Array
  });

  it('round-trips partial and empty details, and non-ASCII text', () => {
    const k = dataKey();
    for (const d of [{}, { ipAddress: '2a02:aa7:4001::17' }, { freeText: 'Ærø, Østerbro, Ålborg — “citat” 👍' }]) {
      expect(decryptDetails(k, encryptDetails(k, d, aad), aad)).toEqual(d);
    }
  });

  it('keeps no plaintext string in the blob (utf8, latin1, base64) and no subject or eventId either', () => {
    const blob = encryptDetails(dataKey(), details, aad);
    const views = [blob.toString('utf8'), blob.toString('latin1'), blob.toString('base64'), blob.toString('hex')];
    for (const secret of [...Object.values(details), subject, eventId, '0012345678', 'Sygedagpenge', 'karen.jensen']) {
      for (const view of views) expect(view).not.toContain(secret);
    }
  });

  it('uses a fresh nonce: the same details twice give different blobs', () => {
    const k = dataKey();
    const a = encryptDetails(k, details, aad);
    const b = encryptDetails(k, details, aad);
    expect(a.equals(b)).toBe(false);
    expect(decryptDetails(k, b, aad)).toEqual(details);
  });

  it('pads to 64 bytes, so the blob length does not tell one benefit type from another', () => {
    const k = dataKey();
    const lengths = ['Sygedagpenge', 'Børne- og ungeydelse', 'Begravelseshjælp', 'Boligstøtte', 'Førtidspension'].map(
      (benefitType) => encryptDetails(k, { benefitType }, aad).length,
    );
    expect(new Set(lengths).size).toBe(1);
  });

  it('writes canonical JSON: fixed field order whatever the input order', () => {
    const shuffled: PersonalDetails = { email: details.email, ipAddress: details.ipAddress, accountNumber: details.accountNumber };
    expect(canonicalDetails(shuffled)).toBe(
      `{"accountNumber":"9570-0012345678","email":"karen.jensen@example.dk","ipAddress":"185.107.12.34"}`,
    );
    expect(canonicalDetails({ ipAddress: '1.2.3.4', email: undefined })).toBe('{"ipAddress":"1.2.3.4"}');
  });

  it('binds the blob to its eventId and subject (AAD): moved blobs do not open', () => {
    const k = dataKey();
    const blob = encryptDetails(k, details, aad);
    for (const moved of [{ eventId: otherEventId, subject }, { eventId, subject: otherSubject }, { eventId: otherEventId, subject: otherSubject }]) {
      const e = expectError(() => decryptDetails(k, blob, moved), 'SPB_ERR_MALFORMED_BODY');
      expect(e.message).toMatch(/authentication failed/);
    }
    // the eventId is compared in lower case, as the store may canonicalise uuids
    expect(decryptDetails(k, blob, { eventId: eventId.toUpperCase(), subject })).toEqual(details);
  });

  it('refuses every single flipped bit of a blob', () => {
    const k = dataKey();
    const blob = encryptDetails(k, { ipAddress: '185.107.12.34', benefitType: 'Sygedagpenge' }, aad);
    let refused = 0;
    for (let bit = 0; bit < blob.length * 8; bit++) {
      const bad = Buffer.from(blob);
      bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expectError(() => decryptDetails(k, bad, aad), 'SPB_ERR_MALFORMED_BODY');
      refused++;
    }
    expect(refused).toBe(blob.length * 8);
    expect(refused).toBeGreaterThan(800);
  });

  it('refuses truncated, extended, empty and foreign bytes', () => {
    const k = dataKey();
    const blob = encryptDetails(k, details, aad);
    const cases = [
      Buffer.alloc(0),
      Buffer.of(0x01),
      blob.subarray(0, blob.length - 1),
      blob.subarray(0, 40),
      Buffer.concat([blob, Buffer.of(0)]),
      Buffer.concat([blob, Buffer.alloc(64, 0x20)]),
      Buffer.concat([Buffer.of(0x02), blob.subarray(1)]),
      Buffer.from([0xc3, 0x01, ...randomBytes(120)]),
      randomBytes(200),
    ];
    for (const bad of cases) expectError(() => decryptDetails(k, bad, aad), 'SPB_ERR_MALFORMED_BODY');
  });

  it('refuses a wrong key, whether its id differs or only its bytes', () => {
    const k = dataKey();
    const blob = encryptDetails(k, details, aad);
    expect(expectError(() => decryptDetails(dataKey(), blob, aad), 'SPB_ERR_MALFORMED_BODY').message).toMatch(/names key/);
    expectError(() => decryptDetails({ id: k.id, key: randomBytes(32) }, blob, aad), 'SPB_ERR_MALFORMED_BODY');
  });

  it('never puts personal details in an error message', () => {
    const k = dataKey();
    const blob = encryptDetails(k, details, aad);
    const messages = [
      expectError(() => decryptDetails(k, blob, { eventId: otherEventId, subject }), 'SPB_ERR_MALFORMED_BODY').message,
      expectError(() => encryptDetails(k, { ...details, cpr: '0101901234' } as PersonalDetails, aad), 'SPB_ERR_SCHEMA_INVALID').message,
      expectError(() => encryptDetails(k, { accountNumber: 95700012345678 } as unknown as PersonalDetails, aad), 'SPB_ERR_SCHEMA_INVALID').message,
    ];
    for (const m of messages) for (const v of [...Object.values(details), '0101901234', '95700012345678']) expect(m).not.toContain(v);
    expect(messages[1]).toMatch(/unknown field 'cpr'/);
    expect(messages[2]).toMatch(/'accountNumber' must be a string/);
  });

  it('refuses oversized details, a bad data key and a missing eventId or subject', () => {
    const k = dataKey();
    expectError(() => encryptDetails(k, { freeText: 'x'.repeat(64 * 1024 + 1) }, aad), 'SPB_ERR_OVERSIZED');
    expect(decryptDetails(k, encryptDetails(k, { freeText: 'x'.repeat(64 * 1024 - 20) }, aad), aad).freeText).toHaveLength(64 * 1024 - 20);
    expectError(() => encryptDetails({ id: k.id, key: randomBytes(16) }, details, aad), 'SPB_ERR_CONFIG');
    expectError(() => encryptDetails({ id: 'not a key id!', key: randomBytes(32) }, details, aad), 'SPB_ERR_CONFIG');
    expectError(() => encryptDetails(k, details, { eventId: '', subject }), 'SPB_ERR_SCHEMA_INVALID');
    expectError(() => encryptDetails(k, details, { eventId, subject: '' }), 'SPB_ERR_SCHEMA_INVALID');
  });
});

describe('detail fields and register data categories', () => {
  const categoryIds = new Set(processingRegister.dataCategories.map((c) => c.id));

  it('maps every detail field to a data category the register defines', () => {
    expect(Object.keys(DETAIL_CATEGORY).sort()).toEqual([...DETAIL_FIELDS].sort());
    for (const [field, id] of Object.entries(DETAIL_CATEGORY)) expect(categoryIds.has(id), `${field} → ${id}`).toBe(true);
    expect(DETAIL_CATEGORY).toEqual({
      ipAddress: 'ip-address',
      accountNumber: 'bank-account-information',
      benefitType: 'type-of-benefit',
      freeText: 'written-inquiry',
      phoneNumber: 'phone-number',
      email: 'email-address',
      surveyComment: 'survey-comment',
    });
  });

  it('names the categories a set of details carries', () => {
    expect(detailCategories(details)).toEqual([
      'bank-account-information', 'email-address', 'ip-address', 'phone-number', 'type-of-benefit', 'written-inquiry',
    ]);
    expect(detailCategories({ accountNumber: '9570-0012345678', benefitType: 'Boligstøtte' })).toEqual(['bank-account-information', 'type-of-benefit']);
    expect(detailCategories({})).toEqual([]);
  });

  it.each(['mitid', 'nemkonto'])('%s: a consented satisfaction survey with the citizen\'s comment is declared; without consent it is consent-missing', (notice) => {
    const found = findFlow(`${notice}-support-dba-satisfaction-survey`, processingRegister);
    if (!found) throw new Error('no survey flow');
    const { activity, flow } = found;
    const survey = (d: PersonalDetails, consentGiven: DisclosureFacts['consentGiven']): DisclosureFacts => ({
      activity: activity.id, recipient: { id: flow.recipientId, role: 'PROCESSOR' }, purpose: flow.purposeIds[0]!,
      legalBases: ['GDPR_ART6_1_A'], dataCategories: detailCategories(d), transfer: null, consentGiven,
    });
    const answer = { phoneNumber: '+4512345678', surveyComment: 'Supporteren var venlig, men ventetiden var lang.' };
    expect(detailCategories(answer)).toEqual(['phone-number', 'survey-comment']);
    expect(classifyDisclosure(processingRegister, survey(answer, ['SATISFACTION_SURVEY']))).toEqual({
      status: 'declared', flowId: flow.id,
      retentionRuleIds: [`${notice}-support-survey-phone-number-90-days`, `${notice}-support-survey-comment-180-days`],
    });
    const noConsent = classifyDisclosure(processingRegister, survey(answer, ['CALL_RECORDING']));
    expect(noConsent.status === 'undeclared' ? noConsent.reasons.map((r) => r.code) : []).toEqual(['CONSENT_MISSING']);
    // The comment as a written inquiry's free text is not what the survey flow declares.
    const asFreeText = classifyDisclosure(processingRegister, survey({ phoneNumber: answer.phoneNumber, freeText: answer.surveyComment }, ['SATISFACTION_SURVEY']));
    expect(asFreeText.status === 'undeclared' ? asFreeText.reasons.map((r) => r.code) : []).toEqual(['CATEGORY_NOT_DECLARED']);
  });

  it('flags the benefit type as special and confidential in the register (why it is encrypted and padded)', () => {
    const benefit = processingRegister.dataCategories.find((c) => c.id === DETAIL_CATEGORY.benefitType);
    expect(benefit?.special).toBe(true);
    expect(benefit?.confidential).toBe(true);
  });
});

describe('master key', () => {
  it('makes fresh data keys in bulk: distinct 32-byte keys with distinct dk_ ids, each its own buffer', () => {
    const fresh = newDataKeys(500);
    expect(fresh).toHaveLength(500);
    expect(new Set(fresh.map((f) => f.id)).size).toBe(500);
    expect(new Set(fresh.map((f) => f.key.toString('hex'))).size).toBe(500);
    for (const f of fresh) {
      expect(f.id).toMatch(/^dk_[0-9a-f]{12}[A-Za-z0-9_-]{16}$/);
      expect(f.key).toHaveLength(32);
      expect(f.key.some((b) => b !== 0)).toBe(true); // a copy, not a view of the random buffer zeroed after use
    }
    expect(newDataKeys(0)).toEqual([]);
  });

  const secret = generateMasterKeySecret();

  it('parses 32 base64url bytes with an id', () => {
    const m = parseMasterKey({ id: 'm1', secret });
    expect(m.id).toBe('m1');
    expect(m.key).toHaveLength(32);
    expect(m.key.toString('base64url')).toBe(secret);
    expect(parseMasterKey({ id: 'm1', secret: ` ${secret}\n` }).key.equals(m.key)).toBe(true); // a mounted file's newline
  });

  it.each([
    ['missing', { id: 'm1' }, /is missing: give 32 random bytes in base64url/],
    ['empty', { id: 'm1', secret: '' }, /is missing/],
    ['blank', { id: 'm1', secret: '   ' }, /is missing/],
    ['short (16 bytes)', { id: 'm1', secret: randomBytes(16).toString('base64url') }, /must be 32 bytes .* got 16 bytes/],
    ['long (48 bytes)', { id: 'm1', secret: randomBytes(48).toString('base64url') }, /must be 32 bytes .* got 48 bytes/],
    ['garbage', { id: 'm1', secret: 'correct horse battery staple!' }, /is not base64url/],
    ['standard base64 with + and /', { id: 'm1', secret: '+/+/' + randomBytes(30).toString('base64url') }, /is not base64url/],
    ['a placeholder of zeros', { id: 'm1', secret: Buffer.alloc(32).toString('base64url') }, /placeholder/],
    ['a bad id', { id: 'Master-1', secret }, /master key id must be 1-8 of \[a-z0-9\]/],
    ['no id', { secret }, /master key id must be/],
  ] as Array<[string, MasterKeyConfig, RegExp]>)('refuses a %s master key with SPB_ERR_CONFIG and a clear message', (_what, cfg, message) => {
    const e = expectError(() => parseMasterKey(cfg), 'SPB_ERR_CONFIG');
    expect(e.message).toMatch(message);
    expect(e.statusCode).toBe(500);
    const secret = cfg.secret?.trim() ?? '';
    if (secret.length > 4) expect(e.message).not.toContain(secret);
  });

  it('wraps a data key into 61 bytes that open only under the same master, key id and subject', () => {
    const m1 = parseMasterKey({ id: 'm1', secret });
    const k = dataKey();
    const ctx = { keyId: k.id, subject };
    const wrapped = wrapDataKey(m1, k.key, ctx);
    expect(wrapped).toHaveLength(WRAPPED_KEY_BYTES);
    expect(wrapped.includes(k.key)).toBe(false);
    expect(unwrapDataKey(m1, wrapped, ctx).equals(k.key)).toBe(true);
    const sameIdOtherSecret = parseMasterKey({ id: 'm1', secret: generateMasterKeySecret() });
    expect(expectError(() => unwrapDataKey(sameIdOtherSecret, wrapped, ctx), 'SPB_ERR_CONFIG').message).toMatch(/does not unwrap under master key 'm1'/);
    expectError(() => unwrapDataKey({ id: 'm2', key: m1.key }, wrapped, ctx), 'SPB_ERR_CONFIG'); // the id is bound too
    expectError(() => unwrapDataKey(m1, wrapped, { keyId: newDataKeyId(), subject }), 'SPB_ERR_CONFIG'); // moved to another row
    expectError(() => unwrapDataKey(m1, wrapped, { keyId: k.id, subject: otherSubject }), 'SPB_ERR_CONFIG');
    expectError(() => unwrapDataKey(m1, wrapped.subarray(0, 60), ctx), 'SPB_ERR_CONFIG');
  });

  it('rewraps under a new master: the new one unwraps, the old one no longer does', () => {
    const m1 = parseMasterKey({ id: 'm1', secret });
    const m2 = parseMasterKey({ id: 'm2', secret: generateMasterKeySecret() });
    const k = dataKey();
    const ctx = { keyId: k.id, subject };
    const moved = rewrap(wrapDataKey(m1, k.key, ctx), m1, m2, ctx);
    expect(unwrapDataKey(m2, moved, ctx).equals(k.key)).toBe(true);
    expectError(() => unwrapDataKey(m1, moved, ctx), 'SPB_ERR_CONFIG');
  });
});

describe('key table name and migrations', () => {
  it('puts the table in public by default, where the unqualified subject_keys of earlier versions lived', () => {
    expect(subjectKeyTable()).toEqual({ schema: 'public', name: 'subject_keys', qualified: 'public.subject_keys' });
    expect(subjectKeyTable('keys_eu')).toEqual({ schema: 'public', name: 'keys_eu', qualified: 'public.keys_eu' });
    expect(subjectKeyTable('sporbar.subject_keys')).toEqual({ schema: 'sporbar', name: 'subject_keys', qualified: 'sporbar.subject_keys' });
  });

  it.each(['', 'Subject_Keys', 'a.b.c', 'x;drop table y', '.subject_keys', 'public.', `k${'x'.repeat(52)}`])('refuses the table name %j (SPB_ERR_CONFIG)', (bad) => {
    expect(() => subjectKeyTable(bad)).toThrow(expect.objectContaining({ code: 'SPB_ERR_CONFIG' }));
  });

  it('keeps each table\'s history next to it, and names the table in every statement', () => {
    const set = subjectKeyMigrations('vault.keys_eu');
    expect(set).toMatchObject({ schema: 'vault', historyTable: 'keys_eu_migrations' });
    expect(set.migrations.map((m) => [m.version, m.name])).toEqual([[1, 'subject-keys']]);
    const ddl = set.migrations[0]!.sql('vault');
    expect(ddl).toContain('CREATE TABLE IF NOT EXISTS vault.keys_eu (');
    expect(ddl).toContain('CREATE UNIQUE INDEX IF NOT EXISTS keys_eu_one_live_key ON vault.keys_eu (subject) WHERE shredded_at IS NULL');
    expect(ddl).not.toMatch(/subject_keys/);
    expect(subjectKeyMigrations().historyTable).toBe('subject_keys_migrations');
  });
});
