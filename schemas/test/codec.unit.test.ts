import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSporbarError, type ErrorCode } from '@sporbar/common/errors';
import { createCodec, fingerprintBytes, fingerprintHex, loadSchemaCatalogue, type EventType } from '../src/index.ts';
import { fixedDisclosure } from './fixtures.ts';

const golden = (name: string): Buffer => Buffer.from(readFileSync(new URL(`./golden/${name}.hex`, import.meta.url), 'utf8').trim(), 'hex');
const codec = createCodec();

function codeOf(fn: () => unknown): ErrorCode | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    if (isSporbarError(e)) return e.code;
    throw e; // anything else (an avsc internal error, a RangeError) fails the test
  }
}

describe('single-object encoding', () => {
  it('encodes the fixed event to the golden bytes of the current version (v2)', () => {
    expect(codec.encode('DisclosureRecorded', fixedDisclosure()).toString('hex')).toBe(golden('DisclosureRecorded.v2').toString('hex'));
  });

  it('writes C3 01 then the CRC-64-AVRO fingerprint of the canonical form, little-endian', () => {
    const bytes = codec.encode('DisclosureRecorded', fixedDisclosure());
    expect([...bytes.subarray(0, 2)]).toEqual([0xc3, 0x01]);
    expect(bytes.subarray(2, 10).toString('hex')).toBe('e9ab15ddb42d0d62');
    // As text (headers, metadata, export): the same 8 bytes, in the same order, as in the stored bytes.
    expect(codec.fingerprintHex('DisclosureRecorded')).toBe('e9ab15ddb42d0d62');
    expect(loadSchemaCatalogue().current('DisclosureRecorded').fingerprint.toString(16)).toBe('620d2db4dd15abe9');
    expect(bytes.readBigUInt64LE(2)).toBe(loadSchemaCatalogue().current('DisclosureRecorded').fingerprint);
  });

  it('writes the fingerprint as text in the byte order of the stored bytes, for every type and version', () => {
    const catalogue = loadSchemaCatalogue();
    for (const t of catalogue.eventTypes as readonly EventType[]) {
      expect(codec.fingerprintHex(t)).toMatch(/^[0-9a-f]{16}$/);
      expect(Buffer.from(codec.fingerprintHex(t), 'hex').readBigUInt64LE(0)).toBe(catalogue.current(t).fingerprint);
      for (const v of catalogue.versions(t)) expect(fingerprintHex(v.fingerprint)).toBe(fingerprintBytes(v.fingerprint).toString('hex'));
    }
    expect(() => codec.decode(Buffer.from('c30100112233445566770000', 'hex'))).toThrow(/no known schema has fingerprint 0011223344556677/);
  });

  it('round-trips every field of the current version', () => {
    const decoded = codec.decode(codec.encode('DisclosureRecorded', fixedDisclosure()));
    expect(decoded.eventType).toBe('DisclosureRecorded');
    expect(decoded.writerVersion).toBe(2);
    expect(decoded.event).toEqual(fixedDisclosure());
  });

  it('resolves bytes written with v1 to the current reader schema (correlationId defaults to null)', () => {
    const decoded = codec.decode(golden('DisclosureRecorded.v1'));
    expect(decoded.writerVersion).toBe(1);
    expect(decoded.fingerprint.toString(16)).toBe('8b5fa6fa8b6e4d9b');
    expect(fingerprintHex(decoded.fingerprint)).toBe(golden('DisclosureRecorded.v1').subarray(2, 10).toString('hex'));
    expect(decoded.event).toEqual({ ...fixedDisclosure(), correlationId: null });
  });

  it('round-trips a transfer and encrypted details', () => {
    const event = { ...fixedDisclosure(), transfer: { country: 'GL', safeguard: 'STANDARD_CONTRACTUAL_CLAUSES' as const }, personalDetails: Buffer.from([1, 2, 3]) };
    expect(codec.decode(codec.encode('DisclosureRecorded', event)).event).toEqual(event);
  });

  it('encodes events larger than its scratch buffer, and small ones after them, to independent buffers', () => {
    const cat = loadSchemaCatalogue();
    const big = { ...fixedDisclosure(), personalDetails: Buffer.alloc(40_000, 7) };
    const small = { ...fixedDisclosure(), personalDetails: Buffer.from([9]) };
    const a = codec.encode('DisclosureRecorded', small);
    const b = codec.encode('DisclosureRecorded', big);
    const c = codec.encode('DisclosureRecorded', small);
    for (const [bytes, event] of [[a, small], [b, big], [c, small]] as const) {
      expect(bytes.subarray(10).equals(cat.current('DisclosureRecorded').type.toBuffer(event))).toBe(true);
      expect(codec.decode(bytes).event).toEqual(event);
    }
    expect(a.equals(c)).toBe(true);
    expect(() => codec.encode('DisclosureRecorded', { ...fixedDisclosure(), personalDetails: Buffer.alloc(70_000) })).toThrow(/over the limit/);
  });
});

describe('validation names the field', () => {
  it.each([
    ['recipient.role', { recipient: { id: 'x', role: 'FRIEND' } }, /recipient\.role: expected one of CONTROLLER/],
    ['eventId', { eventId: 'not-a-uuid' }, /eventId: expected uuid, got "not-a-uuid"/],
    ['occurredAt', { occurredAt: 1.5 }, /occurredAt: expected timestamp-micros, got 1\.5/],
    ['legalBases[1]', { legalBases: ['GDPR_ART6_1_E', 'MADE_UP'] }, /legalBases\[1\]: expected one of GDPR_ART6_1_A/],
    ['purpose', { purpose: undefined }, /purpose: expected string, got nothing/],
  ])('%s', (path, patch, message) => {
    const event = { ...fixedDisclosure(), ...patch };
    expect(codec.validate('DisclosureRecorded', event).map((p) => p.path)).toContain(path);
    expect(() => codec.encode('DisclosureRecorded', event as never)).toThrow(message);
    expect(codeOf(() => codec.encode('DisclosureRecorded', event as never))).toBe('SPB_ERR_SCHEMA_INVALID');
  });

  it('a valid event has no problems', () => {
    expect(codec.validate('DisclosureRecorded', fixedDisclosure())).toEqual([]);
  });

  it('an unknown event type is a typed error', () => {
    expect(codeOf(() => codec.encode('Nope' as never, {} as never))).toBe('SPB_ERR_UNKNOWN_EVENT_TYPE');
  });
});

describe('bad bytes give a typed error naming the reason', () => {
  const good = golden('DisclosureRecorded.v2');

  it.each<[string, () => Uint8Array, ErrorCode, RegExp]>([
    ['empty input', () => new Uint8Array(0), 'SPB_ERR_BAD_MAGIC', /no bytes/],
    ['wrong magic', () => Buffer.concat([Buffer.from([0xc3, 0x02]), good.subarray(2)]), 'SPB_ERR_BAD_MAGIC', /got c302/],
    ['JSON instead of Avro', () => Buffer.from('{"eventId":"x"}'), 'SPB_ERR_BAD_MAGIC', /got 7b22/],
    ['header cut short', () => good.subarray(0, 7), 'SPB_ERR_TRUNCATED', /header needs 10 bytes, got 7/],
    ['unknown fingerprint', () => Buffer.concat([good.subarray(0, 2), Buffer.alloc(8, 0xab), good.subarray(10)]), 'SPB_ERR_UNKNOWN_FINGERPRINT', /abababababababab/],
    ['truncated body', () => good.subarray(0, good.length - 5), 'SPB_ERR_TRUNCATED', /runs past the end/],
    ['trailing bytes', () => Buffer.concat([good, Buffer.from([0])]), 'SPB_ERR_TRAILING_BYTES', /1 bytes after/],
    ['oversized input', () => Buffer.alloc(70_000, 0xc3), 'SPB_ERR_OVERSIZED', /70000 bytes is over the limit of 65536/],
    ['enum index out of range', () => { const b = Buffer.from(good); b[b.indexOf(Buffer.from('mitid-broker')) + 12] = 0x7e; return b; }, 'SPB_ERR_MALFORMED_BODY', /enum index 63 out of range/],
    ['a block count of 2^40 items', () => Buffer.concat([good.subarray(0, 10), Buffer.from('4830663866616435622d643963622d343639662d613136352d373038363737323839353065', 'hex'), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]), 'SPB_ERR_TRUNCATED', /runs past the end|cannot fit/],
    ['an eventId that is not a uuid', () => { const b = Buffer.from(good); b[11] = 0x7a; return b; }, 'SPB_ERR_MALFORMED_BODY', /does not match the reader schema/],
  ])('%s', (_name, bytes, code, message) => {
    let error: unknown;
    try {
      codec.decode(bytes());
    } catch (e) {
      error = e;
    }
    expect(isSporbarError(error) && error.code).toBe(code);
    expect((error as Error).message).toMatch(message);
  });

  it('never throws anything but a SporbarError on 5,000 random mutations of a valid event', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const codes = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(good);
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) b[2 + Math.floor(rand() * (b.length - 2))] = Math.floor(rand() * 256);
      const cut = rand() < 0.2 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
      const code = codeOf(() => codec.decode(cut));
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    // Most mutations hit the fingerprint or the body and are refused; some land in strings and still decode.
    expect(codes.get('SPB_ERR_UNKNOWN_FINGERPRINT')).toBeGreaterThan(100);
    expect(codes.get('SPB_ERR_TRUNCATED')).toBeGreaterThan(100);
    expect([...codes.values()].reduce((a, b) => a + b)).toBe(5000);
  });
});
