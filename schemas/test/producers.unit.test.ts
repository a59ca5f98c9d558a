import { describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { authorize, EVENT_TYPES, INTERNAL_EVENT_TYPES, parseProducerRegistry, processingRegister, registerActivityIds, registerFiles, sourceSystemAllowed, type RegisterFiles } from '../src/index.ts';

const SECRET = Buffer.alloc(32, 7).toString('base64url');
const PUBLIC = Buffer.alloc(32, 9).toString('base64url');
const doc = {
  producers: [
    { id: 'mitid-core', name: 'MitID', keys: [{ keyId: 'k1', algorithm: 'hmac-sha256', secret: SECRET }], eventTypes: ['DisclosureRecorded', 'ConsentGiven'], activities: ['mitid-core', 'mitid-identity-verification'] },
    { id: 'privacy-desk', name: 'Privacy desk', keys: [{ keyId: 'e1', algorithm: 'ed25519', publicKey: PUBLIC }], eventTypes: ['ErasureRequested'], activities: '*' },
    { id: 'support', name: 'Support', sourceSystems: ['mitid-support', 'nemkonto-support'], keys: [{ keyId: 'k1', algorithm: 'hmac-sha256', secret: SECRET }], eventTypes: ['DisclosureRecorded', 'ErasureRequested'], activities: ['mitid-support'] },
    { id: 'sporbar-access-api', name: 'Access API', internal: true, keys: [{ keyId: 'k1', algorithm: 'hmac-sha256', secret: SECRET }], eventTypes: ['ReportViewed'], activities: [] },
  ],
};

const problemsOf = (d: unknown): string[] => {
  try {
    parseProducerRegistry(d, processingRegister);
  } catch (e) {
    if (isSporbarError(e, 'SPB_ERR_CONFIG')) return (e.details as { problems: string[] }).problems;
    throw e;
  }
  return [];
};

describe('the producer registry', () => {
  const registry = parseProducerRegistry(doc, processingRegister);

  it('parses a valid document; a producer declares its own id as sourceSystem unless it lists others', () => {
    expect(registry.producers.map((p) => p.id)).toEqual(['mitid-core', 'privacy-desk', 'support', 'sporbar-access-api']);
    expect(registry.development).toBe(false);
    expect(sourceSystemAllowed(registry.producers[0]!, 'mitid-core')).toBe(true);
    expect(sourceSystemAllowed(registry.producers[0]!, 'nemkonto')).toBe(false);
    expect(sourceSystemAllowed(registry.producers[2]!, 'nemkonto-support')).toBe(true);
    expect(sourceSystemAllowed(registry.producers[2]!, 'support')).toBe(false);
  });

  it('lists every problem at once, each with its path', () => {
    const bad = {
      producers: [
        { id: 'Not Kebab', name: '', keys: [], eventTypes: ['Nope'], activities: ['no-such-activity'] },
        { id: 'x', name: 'x', keys: [{ keyId: 'k', algorithm: 'hmac-sha256', secret: 'c2hvcnQ' }, { keyId: 'k', algorithm: 'ed25519', publicKey: PUBLIC }, { keyId: 'j', algorithm: 'rsa' }], eventTypes: ['DisclosureRecorded'], activities: '*' },
        { id: 'x', name: 'dup', keys: [{ keyId: 'k', algorithm: 'ed25519', publicKey: 'AAAA' }], eventTypes: ['DisclosureRecorded'], activities: [], extra: 1 },
      ],
      other: true,
    };
    const problems = problemsOf(bad);
    for (const expected of [
      '$.other: unknown field',
      '$.producers[0].id: must be a kebab-case id',
      '$.producers[0].name: must be a non-empty string',
      '$.producers[0].keys: must be a non-empty array',
      '$.producers[0].eventTypes[0]: not an event type: Nope',
      '$.producers[0].activities[0]: not an activity of the processing register: no-such-activity',
      '$.producers[1].keys[0].secret: must be ≥ 32 bytes, base64url',
      '$.producers[1].keys[1].keyId: duplicate key id k',
      '$.producers[1].keys[2].algorithm: must be one of hmac-sha256, ed25519',
      '$.producers[2].id: duplicate producer id x',
      '$.producers[2].extra: unknown field',
      '$.producers[2].keys[0].publicKey: must be a raw 32-byte Ed25519 public key, base64url',
    ]) expect(problems).toContain(expected);
    expect(problemsOf('[]')).toEqual(['$: must be an object']);
  });

  it.each(INTERNAL_EVENT_TYPES)('grants %s to internal principals only', (type) => {
    const entry = { id: 'ops', name: 'ops', keys: [{ keyId: 'k1', algorithm: 'hmac-sha256', secret: SECRET }], eventTypes: [type], activities: '*' };
    expect(problemsOf({ producers: [entry] })).toEqual([`$.producers[0].eventTypes[0]: ${type} comes only from Sporbar's own principals (internal: true)`]);
    expect(problemsOf({ producers: [{ ...entry, internal: true }] })).toEqual([]);
  });

  it('authorize: unknown producer, event type and activity outside the allow-list, erasure of every activity', () => {
    expect(authorize(registry, 'mitid-core', 'DisclosureRecorded', 'mitid-core')).toMatchObject({ ok: true, producer: { id: 'mitid-core' } });
    expect(authorize(registry, 'nobody', 'DisclosureRecorded', 'mitid-core')).toMatchObject({ ok: false, code: 'SPB_ERR_UNKNOWN_PRODUCER' });
    expect(authorize(registry, 'mitid-core', 'DisclosureRecorded', 'nemkonto-register')).toEqual({ ok: false, code: 'SPB_ERR_NOT_ALLOWED', reason: 'producer mitid-core may not send DisclosureRecorded for activity nemkonto-register' });
    expect(authorize(registry, 'mitid-core', 'ErasureRequested', 'mitid-core')).toEqual({ ok: false, code: 'SPB_ERR_NOT_ALLOWED', reason: 'producer mitid-core may not send ErasureRequested' });
    expect(authorize(registry, 'privacy-desk', 'ErasureRequested', null)).toMatchObject({ ok: true });
    expect(authorize(registry, 'privacy-desk', 'ErasureRequested', 'nemkonto-register')).toMatchObject({ ok: true });
    expect(authorize(registry, 'support', 'ErasureRequested', 'mitid-support')).toMatchObject({ ok: true });
    expect(authorize(registry, 'support', 'ErasureRequested', null)).toMatchObject({ ok: false, code: 'SPB_ERR_NOT_ALLOWED' });
    expect(authorize(registry, 'sporbar-access-api', 'ReportViewed', null)).toMatchObject({ ok: true });
    for (const type of EVENT_TYPES.filter((t) => t !== 'ReportViewed')) expect(authorize(registry, 'sporbar-access-api', type, null).ok).toBe(false);
    for (const type of INTERNAL_EVENT_TYPES) for (const p of ['mitid-core', 'privacy-desk', 'support']) expect(authorize(registry, p, type, null).ok).toBe(false);
  });

  it('against register files, an activity id of any notice version is valid, one of an older version too', () => {
    // An older MitID version with an activity the latest version no longer has (the register files a program runs with hold every version).
    const latest = registerFiles.versions.find((v) => v.file.notice === 'mitid')!;
    const older = { ...latest, path: 'mitid/1.5.yaml', from: latest.from - 1, to: latest.from, file: { ...latest.file, activities: [...latest.file.activities, { ...latest.file.activities[0]!, id: 'mitid-retired' }] } };
    const files: RegisterFiles = { ...registerFiles, versions: [older, ...registerFiles.versions] };
    expect(registerActivityIds(files).has('mitid-retired')).toBe(true);
    expect(registerActivityIds(processingRegister).has('mitid-retired')).toBe(false);
    const retired = { producers: [{ ...doc.producers[0]!, activities: ['mitid-core', 'mitid-retired'] }] };
    expect(parseProducerRegistry(retired, files).producers[0]!.activities).toEqual(['mitid-core', 'mitid-retired']);
    expect(problemsOf(retired)).toEqual(['$.producers[0].activities[1]: not an activity of the processing register: mitid-retired']);
  });
});
