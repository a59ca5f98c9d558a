import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  describeSubjectMapVerdict,
  formatSubjectMapBundle,
  parseSubjectMapBundle,
  SUBJECT_MAP_MAX_AGE_SECONDS,
  SubjectMapBundleError,
  verifySubjectMapBundle,
  type SubjectMapBundleJson,
} from '@sporbar/auditor/map';
import { parsePolicy } from '@sporbar/auditor/note';
import type { SubjectMapCommitted } from '@sporbar/schemas';
import { generateSigningKey, verifierKeyString } from '../src/checkpoint/signed-tree-head.ts';
import { inclusionProof, leafHash } from '../src/merkle/rfc9162.ts';
import { keyOnlyPolicy } from '../src/verify-proof.ts';
import { alteredBundles, buildSubjectMapBundle, cloneBundle, pseudonymOf, sharedCodec as codec } from './support/subject-map-bundle.ts';

const A = pseudonymOf('anna');
const A2 = pseudonymOf('anna after rotation');
const B = pseudonymOf('bo');
const C = pseudonymOf('carl');

/** Anna has 5 disclosures under the map (between Bo's and Carl's, with an earlier commitment), 1 after it, 1 not yet logged. */
const built = buildSubjectMapBundle({ covered: [B, A, A, C, null, A, B, A, C, A, B], after: [A, C], unlogged: 1, citizen: [A] });
const policy = parsePolicy(built.policy);
const verify = (b: unknown, o: { listed?: readonly string[] } = {}) => verifySubjectMapBundle(b, policy, codec, o);

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** base64 of 32 bytes ends in one character with 2 unused bits: flip the lowest. */
const unusedBitSet = (h: string): string => `${h.slice(0, 42)}${B64[B64.indexOf(h[42]!) ^ 1]}=`;

const mutate = (f: (b: SubjectMapBundleJson) => void): SubjectMapBundleJson => {
  const b = cloneBundle(built.bundle);
  f(b);
  return b;
};

describe('the subject map proof bundle: a real log, map and checkpoint', () => {
  it('builds what the format says: one subject of 5 leaves in log order, 2 pending', () => {
    const b = built.bundle;
    expect(b.format).toBe('sporbar-subject-map-proof/1');
    expect(b.commitment.leafIndex).toBe(11);
    expect(built.treeSize).toBe(11);
    expect(b.subjects).toHaveLength(1);
    expect(b.subjects[0]!.leaves.map((l) => l.leafIndex)).toEqual([1, 2, 5, 7, 9]);
    expect(b.pending).toEqual([{ eventId: built.listed[5], leafIndex: 12 }, { eventId: built.listed[6], leafIndex: null }]);
    expect(b.checkpoint.split('\n').filter((l) => l.startsWith('\u2014 '))).toHaveLength(3);
  });

  it('verifies under the witness policy and under the log key alone, and says so in plain words', () => {
    for (const p of [policy, keyOnlyPolicy(built.vkey)]) {
      const v = verifySubjectMapBundle(built.bundle, p, codec, { listed: built.listed });
      expect(v).toMatchObject({ ok: true, origin: built.origin, checkpointSize: 14, commitmentIndex: 11, treeSize: 11, proven: 5, listChecked: true });
    }
    const v = verify(JSON.stringify(built.bundle));
    expect(v.ok).toBe(true);
    const text = describeSubjectMapVerdict(v);
    expect(text).toContain("PROVEN COMPLETE: all 5 disclosures about you in the log's first 11 entries (entries 0..10) are here — none missing, none added, complete as of ");
    expect(v).toMatchObject({ committedAt: new Date(Math.floor(built.committedAt / 1000)).toISOString() });
    expect(text).toContain('cosigned by datatilsynet, rigsrevisionen');
    expect(text).toContain(`not yet covered by the map (2): ${built.listed[5]} (entry 12), ${built.listed[6]} (not yet in the log)`);
  });

  it('omitting, adding another subject\'s, or reordering disclosures each fail with their reason', () => {
    const { omit, extra, reorder } = alteredBundles(built);
    expect(verify(omit)).toMatchObject({ ok: false, reason: 'missing', subject: 0, committed: 5, listed: 4 });
    expect(describeSubjectMapVerdict(verify(omit))).toContain("1 disclosure that the log's map holds is not in the list (the map holds 5, the list 4)");
    expect(verify(extra)).toMatchObject({ ok: false, reason: 'extra', committed: 5, listed: 6 });
    expect(verify(reorder)).toMatchObject({ ok: false, reason: 'reordered', at: 1 });
    const r = verify(reorder);
    expect(r.ok ? '' : r.detail).toBe("the list is not in the log's order: entry 1 comes after entry 2");
  });

  it('a leaf listed twice, a substituted one, one claimed beyond the map, a pending one the map covers', () => {
    const dup = mutate((b) => b.subjects[0]!.leaves.splice(2, 0, b.subjects[0]!.leaves[1]!));
    expect(verify(dup)).toMatchObject({ ok: false, reason: 'listed-twice' });
    // Bo's disclosure at entry 6 instead of Anna's at 7: as many, in order, not the same.
    const swapped = mutate((b) => (b.subjects[0]!.leaves[3] = built.leafOf(built.disclosures.find((d) => d.leafIndex === 6)!.eventId)));
    expect(verify(swapped)).toMatchObject({ ok: false, reason: 'substituted', committed: 5, listed: 5 });
    const beyond = mutate((b) => (b.subjects[0]!.leaves[4]!.leafIndex = 11));
    expect(verify(beyond)).toMatchObject({ ok: false, reason: 'beyond-size', at: 4 });
    // Anna's entry 9 moved to "pending": the map holds it, so the list is short (checked first); with the list
    // intact, a pending item the map covers is refused on its own.
    const moved = mutate((b) => b.pending.push({ eventId: b.subjects[0]!.leaves.pop()!.eventId, leafIndex: 9 }));
    expect(verify(moved)).toMatchObject({ ok: false, reason: 'missing' });
    const covered = mutate((b) => (b.pending[0]!.leafIndex = 10));
    expect(verify(covered)).toMatchObject({ ok: false, reason: 'pending-covered', eventId: built.listed[5] });
  });

  it("a leaf's bytes and hash that do not match, or bytes of another disclosure, fail", () => {
    const hash = mutate((b) => (b.subjects[0]!.leaves[2]!.leafHash = Buffer.alloc(32, 1).toString('base64')));
    expect(verify(hash)).toMatchObject({ ok: false, reason: 'leaf-hash', at: 2 });
    const flipped = mutate((b) => {
      const bytes = Buffer.from(b.subjects[0]!.leaves[2]!.event, 'base64');
      bytes[bytes.length - 3]! ^= 1;
      b.subjects[0]!.leaves[2]!.event = bytes.toString('base64');
    });
    expect(verify(flipped)).toMatchObject({ ok: false, reason: 'leaf-hash', at: 2 });
    // Consistent bytes and hash, but of Anna's other disclosure: not the eventId listed.
    const other = mutate((b) => {
      const l = b.subjects[0]!.leaves;
      l[2] = { ...l[3]!, eventId: l[2]!.eventId, leafIndex: l[2]!.leafIndex };
    });
    expect(verify(other)).toMatchObject({ ok: false, reason: 'leaf-event', at: 2 });
    // The commitment's bytes as the leaf: hashes fine, is no disclosure.
    const notDisclosure = mutate((b) => {
      const e = Buffer.from(b.commitment.event, 'base64');
      b.subjects[0]!.leaves[0] = { ...b.subjects[0]!.leaves[0]!, event: e.toString('base64'), leafHash: leafHash(e).toString('base64') };
    });
    expect(verify(notDisclosure)).toMatchObject({ ok: false, reason: 'leaf-event', detail: /not a recorded disclosure: it is a SubjectMapCommitted/ });
  });

  it('a log that committed another map root: bad-proof; a commitment altered in the bundle: not included', () => {
    const forged = buildSubjectMapBundle({ covered: [A, B, A], citizen: [A], commitRoot: (r) => createHash('sha256').update(r).digest() });
    expect(verifySubjectMapBundle(forged.bundle, parsePolicy(forged.policy), codec)).toMatchObject({ ok: false, reason: 'bad-proof', detail: 'the map proof does not lead to the map root the log committed to' });
    const altered = mutate((b) => {
      const e = Buffer.from(b.commitment.event, 'base64');
      e[e.length - 1]! ^= 1;
      b.commitment.event = e.toString('base64');
    });
    expect(verify(altered)).toMatchObject({ ok: false, reason: 'commitment-not-included' });
    expect(verify(mutate((b) => (b.commitment.leafIndex = 10)))).toMatchObject({ ok: false, reason: 'commitment-not-included' });
    expect(verify(mutate((b) => (b.commitment.leafIndex = 14)))).toMatchObject({ ok: false, reason: 'commitment-outside' });
    const wrongProof = mutate((b) => {
      const p = b.subjects[0]!.proof;
      const bytes = Buffer.from(p, 'base64');
      bytes[bytes.length - 40]! ^= 1; // inside the committed head
      b.subjects[0]!.proof = bytes.toString('base64');
    });
    expect(verify(wrongProof)).toMatchObject({ ok: false, reason: 'bad-proof' });
  });

  it('a commitment that is a disclosure, or that claims to cover itself, fails', () => {
    // Entry 12 (Anna's, after the commitment) with its real inclusion proof: in the log, but no commitment.
    const d = built.disclosures.find((x) => x.leafIndex === 12)!;
    const other = buildSubjectMapBundle({ covered: [A, A], citizen: [A], commitSize: (n) => n + 1 });
    expect(verifySubjectMapBundle(other.bundle, parsePolicy(other.policy), codec)).toMatchObject({ ok: false, reason: 'commitment-ahead' });
    const hashes = built.entries.map((e) => leafHash(e));
    const path = inclusionProof(hashes, 12).map((h) => h.toString('base64'));
    const asCommitment = mutate((b) => (b.commitment = { leafIndex: 12, event: d.bytes!.toString('base64'), inclusionProof: path }));
    expect(verify(asCommitment)).toMatchObject({ ok: false, reason: 'commitment-undecodable', detail: /it is a DisclosureRecorded/ });
  });

  it('a bad log signature, a missing cosignature, another log key: the checkpoint fails first', () => {
    const lines = built.bundle.checkpoint.split('\n');
    const sigAt = lines.findIndex((l) => l.startsWith(`\u2014 ${built.origin} `));
    const sig = Buffer.from(lines[sigAt]!.split(' ')[2]!, 'base64');
    sig[10]! ^= 1;
    const badSig = mutate((b) => (b.checkpoint = [...lines.slice(0, sigAt), `\u2014 ${built.origin} ${sig.toString('base64')}`, ...lines.slice(sigAt + 1)].join('\n')));
    expect(verify(badSig)).toMatchObject({ ok: false, reason: 'log-signature' });
    const noWitness = mutate((b) => (b.checkpoint = lines.filter((l) => !l.startsWith('\u2014 rigsrevisionen ')).join('\n')));
    expect(verify(noWitness)).toMatchObject({ ok: false, reason: 'quorum', detail: /quorum .* is not met: cosigned by datatilsynet/ });
    const stranger = keyOnlyPolicy(verifierKeyString(built.origin, generateSigningKey().publicKeyRaw));
    expect(verifySubjectMapBundle(built.bundle, stranger, codec)).toMatchObject({ ok: false, reason: 'log-signature' });
    expect(verifySubjectMapBundle(built.bundle, policy, codec, { origin: 'sporbar.v1/other' })).toMatchObject({ ok: false, reason: 'log-signature' });
    expect(verify(mutate((b) => (b.checkpoint = 'not a note')))).toMatchObject({ ok: false, reason: 'checkpoint-malformed' });
  });

  it("the report's list against the bundle: one left out of the map, one missing from the report", () => {
    const stranger = built.disclosures.find((d) => d.pseudonym === C)!.eventId;
    const v1 = verify(built.bundle, { listed: [...built.listed, stranger] });
    expect(v1).toMatchObject({ ok: false, reason: 'left-out-of-map', eventId: stranger });
    expect(describeSubjectMapVerdict(v1)).toContain(`the report lists 1 disclosure that the map proof leaves out (in no chain and not pending): ${stranger}`);
    const v2 = verify(built.bundle, { listed: built.listed.filter((_, i) => i !== 3) });
    expect(v2).toMatchObject({ ok: false, reason: 'missing-from-report', eventId: built.listed[3] });
    expect(verify(built.bundle, { listed: [...built.listed, built.listed[0]!] })).toMatchObject({ ok: false, reason: 'listed-twice' });
    // Order does not matter to the report's list (the chains carry the order).
    expect(verify(built.bundle, { listed: [...built.listed].reverse() }).ok).toBe(true);
  });

  it('after a pseudonym-key rotation: two subjects both verify; a gap in the second is found there', () => {
    const rotated = buildSubjectMapBundle({ covered: [A, B, A, A2, C, A2, B, A2], after: [A2], citizen: [A, A2] });
    const p = parsePolicy(rotated.policy);
    const v = verifySubjectMapBundle(rotated.bundle, p, codec, { listed: rotated.listed });
    expect(v).toMatchObject({ ok: true, proven: 5, subjects: [{ count: 2 }, { count: 3 }], pending: [{ leafIndex: 9 }] });
    expect(describeSubjectMapVerdict(v)).toContain('pseudonym 2 of 2');
    const gap = cloneBundle(rotated.bundle);
    gap.subjects[1]!.leaves.splice(0, 1);
    expect(verifySubjectMapBundle(gap, p, codec)).toMatchObject({ ok: false, reason: 'missing', subject: 1, detail: /^subject 2 of 2: / });
    // The new pseudonym with nothing under the map yet: a proof of absence, count 0.
    const fresh = buildSubjectMapBundle({ covered: [A, B, A], after: [A2], citizen: [A, A2] });
    expect(verifySubjectMapBundle(fresh.bundle, parsePolicy(fresh.policy), codec, { listed: fresh.listed })).toMatchObject({ ok: true, proven: 2, subjects: [{ count: 2 }, { count: 0 }] });
    // An absent subject cannot be given leaves.
    const padded = cloneBundle(fresh.bundle);
    padded.subjects[1]!.leaves.push(fresh.leafOf(fresh.disclosures.find((d) => d.pseudonym === B)!.eventId));
    expect(verifySubjectMapBundle(padded, parsePolicy(fresh.policy), codec)).toMatchObject({ ok: false, reason: 'extra', subject: 1, committed: 0 });
  });

  it('a map that files two pseudonyms under one index: the list holds, the mix is reported', () => {
    const shared = createHash('sha256').update('one index').digest();
    const mixed = buildSubjectMapBundle({ covered: [A, B, A], citizen: [A], indexOf: (p, keyed) => (p === A || p === B ? shared : keyed) });
    expect(verifySubjectMapBundle(mixed.bundle, parsePolicy(mixed.policy), codec)).toMatchObject({ ok: false, reason: 'mixed-subjects', at: 1 });
  });

  describe("the map's age: a commitment older than the heartbeat allows could hide newer disclosures", () => {
    // 2026-12-07 11:49:30 UTC, and Anna's log committed then.
    const T = Date.UTC(2026, 11, 7, 11, 49, 30);
    const at = buildSubjectMapBundle({ covered: [B, A, A, null, A], after: [A], citizen: [A], committedAt: T * 1000 });
    const p = parsePolicy(at.policy);
    const check = (now: number, o: { maxAgeSeconds?: number } = {}) => verifySubjectMapBundle(at.bundle, p, codec, { now, ...o });
    const HOUR = 3600_000;

    it('a fresh map passes and says as of when; the default allows 7 hours (the 6 h heartbeat + 1 h)', () => {
      expect(SUBJECT_MAP_MAX_AGE_SECONDS).toBe(25_200);
      const v = check(T + HOUR);
      expect(v).toMatchObject({ ok: true, proven: 3, committedAt: '2026-12-07T11:49:30.000Z' });
      expect(describeSubjectMapVerdict(v)).toContain("all 3 disclosures about you in the log's first 5 entries (entries 0..4) are here — none missing, none added, complete as of 2026-12-07 11:49 UTC\n");
      expect(describeSubjectMapVerdict(v)).toContain('map: committed at entry 5 on 2026-12-07T11:49:30.000Z, covering entries 0..4');
      expect(check(T + 7 * HOUR).ok).toBe(true);
      expect(check(T + 7 * HOUR + 1000)).toMatchObject({ ok: false, reason: 'stale' });
      // A fresh bundle without `now`: judged by the current time.
      expect(verifySubjectMapBundle(built.bundle, policy, codec)).toMatchObject({ ok: true });
    });

    it('an old commitment fails `stale`, with the map\'s time in the words', () => {
      const v = check(T + 9 * HOUR + 12 * 60_000);
      expect(v).toMatchObject({ ok: false, reason: 'stale', committedAt: '2026-12-07T11:49:30.000Z' });
      const detail = v.ok ? '' : v.detail;
      expect(detail).toBe("the map is from 2026-12-07 11:49 UTC, older than the log's commitment cadence allows (at most 7 h; it is 9 h 12 min old): newer disclosures may be missing");
      expect(describeSubjectMapVerdict(v)).toMatch(/^NOT PROVEN COMPLETE: the map is from 2026-12-07 11:49 UTC, older than/);
      // A bundle built with an old commitment and verified now (the default clock).
      const old = buildSubjectMapBundle({ covered: [A, B, A], citizen: [A], committedAt: (Date.now() - 8 * HOUR) * 1000 });
      expect(verifySubjectMapBundle(old.bundle, parsePolicy(old.policy), codec)).toMatchObject({ ok: false, reason: 'stale' });
      // A stricter verifier (an hour) refuses what the default accepts.
      expect(check(T + 2 * HOUR, { maxAgeSeconds: 3600 })).toMatchObject({ ok: false, reason: 'stale', detail: /at most 1 h; it is 2 h old/ });
    });

    it('a commitment dated more than 10 minutes in the future fails `stale` too (a clock is wrong)', () => {
      expect(check(T - 10 * 60_000).ok).toBe(true);
      const v = check(T - 11 * 60_000);
      expect(v).toMatchObject({ ok: false, reason: 'stale' });
      expect(v.ok ? '' : v.detail).toBe("the map is dated 2026-12-07 11:49 UTC, 11 min after this clock's 2026-12-07 11:38 UTC: this clock or the log's is wrong, so the map's age cannot be judged");
    });

    it('maxAgeSeconds 0 does not check the age (old or future); a negative one is a programming error', () => {
      expect(check(T + 400 * 24 * HOUR, { maxAgeSeconds: 0 })).toMatchObject({ ok: true, committedAt: '2026-12-07T11:49:30.000Z' });
      expect(check(T - 24 * HOUR, { maxAgeSeconds: 0 }).ok).toBe(true);
      expect(() => check(T, { maxAgeSeconds: -1 })).toThrow(RangeError);
    });

    it('the age is checked after the commitment is proven: a forged time in the bundle is not included', () => {
      // Re-encoding the commitment with a fresh time changes its leaf hash: the inclusion proof fails first.
      const b = cloneBundle(at.bundle);
      const e = codec.decode(Buffer.from(b.commitment.event, 'base64')).event as SubjectMapCommitted;
      b.commitment.event = codec.encode('SubjectMapCommitted', { ...e, occurredAt: (T + 9 * HOUR) * 1000 }).toString('base64');
      expect(verifySubjectMapBundle(b, p, codec, { now: T + 9 * HOUR })).toMatchObject({ ok: false, reason: 'commitment-not-included' });
    });
  });

  it('parses strictly and formats back', () => {
    const parsed = parseSubjectMapBundle(JSON.stringify(built.bundle));
    expect(formatSubjectMapBundle(parsed)).toEqual(built.bundle);
    expect(parsed.subjects[0]!.index.toString('hex')).toBe(built.bundle.subjects[0]!.index);
    const bad: Array<[string, (b: Record<string, unknown> & SubjectMapBundleJson) => void, RegExp]> = [
      ['another format', (b) => ((b as { format: string }).format = 'sporbar-subject-map-proof/2'), /format/],
      ['an unknown field', (b) => (b['extra'] = 1), /unknown field "extra"/],
      ['a missing field', (b) => delete (b as Partial<SubjectMapBundleJson>).pending, /lacks "pending"/],
      ['a short leaf hash', (b) => (b.subjects[0]!.leaves[0]!.leafHash = Buffer.alloc(31).toString('base64')), /32 bytes/],
      ['non-canonical base64 (an unused bit set)', (b) => (b.subjects[0]!.leaves[0]!.leafHash = unusedBitSet(b.subjects[0]!.leaves[0]!.leafHash)), /canonical base64/],
      ['an upper-case index', (b) => (b.subjects[0]!.index = b.subjects[0]!.index.toUpperCase()), /hex/],
      ['a fractional leaf index', (b) => (b.subjects[0]!.leaves[0]!.leafIndex = 1.5), /non-negative integer/],
      ['a truncated map proof', (b) => (b.subjects[0]!.proof = Buffer.from(b.subjects[0]!.proof, 'base64').subarray(0, 10).toString('base64')), /proof/],
      ['a bad eventId', (b) => (b.pending[0]!.eventId = 'x'), /UUID/],
    ];
    for (const [what, f, message] of bad) {
      const b = cloneBundle(built.bundle) as Record<string, unknown> & SubjectMapBundleJson;
      f(b);
      expect(() => parseSubjectMapBundle(b), what).toThrow(SubjectMapBundleError);
      expect(() => parseSubjectMapBundle(b), what).toThrow(message);
      expect(verify(b), what).toMatchObject({ ok: false, reason: 'malformed' });
    }
    expect(verify('{')).toMatchObject({ ok: false, reason: 'malformed', detail: /not JSON/ });
  });
});
