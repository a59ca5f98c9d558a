import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  auditMapCommitments,
  chainGenesis,
  chainHead,
  chainOver,
  checkSubjectList,
  decodeMapProof,
  EMPTY_HASH,
  encodeMapProof,
  leafNodeHash,
  mapRootOf,
  MapError,
  saltFromSecret,
  SubjectMap,
  valueHash,
  verifyMapProof,
  type ListedLeaf,
  type LogLeaf,
  type MapCommitment,
  type MapEntry,
  type MapProof,
} from '@sporbar/auditor/map';
import { ObjectSubjectMap } from './support/object-subject-map.ts';
import { rng } from './support/seeded-rng.ts';

// Independent hashing (createHash over the documented byte strings), not the code under test.
const sha = (...parts: (Uint8Array | number[])[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(Array.isArray(p) ? Buffer.from(p) : p);
  return h.digest();
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};


const saltOf = saltFromSecret(Buffer.from('test salt secret'));
const idx = (s: string) => sha(Buffer.from(`subject ${s}`));
const lh = (i: number) => sha([0], Buffer.from(`event ${i}`));

/** A random log: M leaves, each about one of N subjects or (sometimes) about none. */
function randomLog(seed: number, subjects: number, leaves: number): LogLeaf[] {
  const r = rng(seed);
  const ids = Array.from({ length: subjects }, () => r.bytes(32));
  return Array.from({ length: leaves }, (_, i) => ({ logIndex: i, leafHash: lh(seed * 1e6 + i), index: r.next() < 0.1 ? null : ids[r.int(subjects)]! }));
}

const entriesOf = (log: LogLeaf[]): MapEntry[] => log.filter((l) => l.index !== null).map((l) => ({ index: l.index!, logIndex: l.logIndex, leafHash: l.leafHash }));

/** The reference root: group by index, chain in log order, mapRootOf. */
function referenceRoot(log: LogLeaf[], size = log.length): Buffer {
  const groups = new Map<string, { index: Uint8Array; leaves: ListedLeaf[] }>();
  for (const l of log.slice(0, size)) {
    if (!l.index) continue;
    const k = Buffer.from(l.index).toString('hex');
    if (!groups.has(k)) groups.set(k, { index: l.index, leaves: [] });
    groups.get(k)!.leaves.push(l);
  }
  return mapRootOf([...groups.values()].map((g) => {
    const v = chainOver(g.index, saltOf(g.index), g.leaves);
    return { index: g.index, valueHash: valueHash(v.count, v.head) };
  }));
}

const listOf = (log: LogLeaf[], index: Uint8Array, size = log.length): ListedLeaf[] =>
  log.slice(0, size).filter((l) => l.index && Buffer.compare(l.index, index) === 0).map(({ logIndex, leafHash }) => ({ logIndex, leafHash }));

describe('subject map hashes', () => {
  it('are the documented, domain-separated SHA-256 strings', () => {
    const i = idx('a');
    const s = saltOf(i);
    const g = chainGenesis(i, s);
    expect(g).toEqual(sha([0x20], i, s));
    const h1 = chainHead(g, 7, lh(7));
    expect(h1).toEqual(sha([0x21], g, u64(7), lh(7)));
    expect(valueHash(1, h1)).toEqual(sha([0x22], u64(1), h1));
    expect(leafNodeHash(i, valueHash(1, h1))).toEqual(sha([0x23], i, valueHash(1, h1)));
    expect(EMPTY_HASH).toEqual(sha([0x25]));
    // Large log indexes are encoded as full u64s.
    expect(chainHead(g, 2 ** 40 + 3, lh(1))).toEqual(sha([0x21], g, u64(2 ** 40 + 3), lh(1)));
  });

  it('the empty map is EMPTY_HASH and a one-subject map is its leaf node', () => {
    const m = new SubjectMap({ saltOf });
    expect(m.root()).toEqual(EMPTY_HASH);
    m.apply([{ index: idx('a'), logIndex: 0, leafHash: lh(0) }]);
    const v = chainOver(idx('a'), saltOf(idx('a')), [{ logIndex: 0, leafHash: lh(0) }]);
    expect(m.root()).toEqual(leafNodeHash(idx('a'), valueHash(1, v.head)));
    expect(m.root()).toEqual(sha([0x23], idx('a'), sha([0x22], u64(1), sha([0x21], sha([0x20], idx('a'), saltOf(idx('a'))), u64(0), lh(0)))));
  });

  it('rejects malformed input without changing the map', () => {
    const m = new SubjectMap({ saltOf });
    m.apply([{ index: idx('a'), logIndex: 0, leafHash: lh(0) }], 5);
    const root = m.root();
    expect(() => m.apply([{ index: idx('b'), logIndex: 3, leafHash: lh(3) }])).toThrow(MapError); // before size
    expect(() => m.apply([{ index: idx('b'), logIndex: 6, leafHash: lh(6) }, { index: idx('c'), logIndex: 6, leafHash: lh(6) }])).toThrow(MapError);
    expect(() => m.apply([{ index: idx('b').subarray(1), logIndex: 6, leafHash: lh(6) }])).toThrow(MapError);
    expect(() => m.apply([{ index: idx('b'), logIndex: 9, leafHash: lh(9) }], 8)).toThrow(MapError);
    expect(m.root()).toEqual(root);
    expect(m.size).toBe(5);
  });
});

describe('SubjectMap roots', () => {
  it('do not depend on the order of a batch, and equal the from-scratch reference', () => {
    const log = randomLog(1, 50, 400);
    const entries = entriesOf(log);
    const a = new SubjectMap({ saltOf });
    a.apply(entries, log.length);
    const shuffled = [...entries];
    const r = rng(2);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const b = new SubjectMap({ saltOf });
    b.apply(shuffled, log.length);
    expect(b.root()).toEqual(a.root());
    expect(a.root()).toEqual(referenceRoot(log));
  });

  it('property: over random logs, incremental batches equal a from-scratch recomputation at every checkpoint', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed * 7919);
      const subjects = 1 + r.int(80);
      const log = randomLog(seed, subjects, r.int(600));
      const m = new SubjectMap({ saltOf });
      let at = 0;
      while (at < log.length) {
        const to = Math.min(log.length, at + 1 + r.int(60));
        m.apply(entriesOf(log.slice(at, to)), to);
        if (r.next() < 0.5 || to === log.length) expect(m.root(), `seed ${seed} size ${to}`).toEqual(referenceRoot(log, to));
        at = to;
      }
      // Every subject's proof verifies and its true list passes; a few absent indexes prove absent.
      const root = m.root();
      const present = new Set(log.filter((l) => l.index).map((l) => Buffer.from(l.index!).toString('hex')));
      for (const hex of present) {
        const i = Buffer.from(hex, 'hex');
        const proof = decodeMapProof(encodeMapProof(m.prove(i)));
        expect(verifyMapProof(root, i, proof)).toMatchObject({ count: m.get(i)!.count });
        expect(checkSubjectList(root, i, proof, listOf(log, i), { treeSize: log.length })).toEqual({ ok: true, count: m.get(i)!.count });
      }
      for (let k = 0; k < 5; k++) {
        const i = r.bytes(32);
        const proof = decodeMapProof(encodeMapProof(m.prove(i)));
        expect(verifyMapProof(root, i, proof)).toBeNull();
        expect(checkSubjectList(root, i, proof, [])).toEqual({ ok: true, count: 0 });
      }
    }
  });

  it('indexes sharing a long prefix make a canonical chain of inner nodes', () => {
    const a = Buffer.alloc(32, 0);
    const b = Buffer.alloc(32, 0);
    b[31] = 1; // differ only in the last bit
    const c = Buffer.alloc(32, 0xff);
    const m = new SubjectMap({ saltOf });
    m.apply([{ index: a, logIndex: 0, leafHash: lh(0) }, { index: b, logIndex: 1, leafHash: lh(1) }, { index: c, logIndex: 2, leafHash: lh(2) }]);
    const log: LogLeaf[] = [{ logIndex: 0, leafHash: lh(0), index: a }, { logIndex: 1, leafHash: lh(1), index: b }, { logIndex: 2, leafHash: lh(2), index: c }];
    expect(m.root()).toEqual(referenceRoot(log));
    for (const i of [a, b, c]) {
      const p = m.prove(i);
      expect(verifyMapProof(m.root(), i, p)).not.toBeNull();
    }
    expect(m.prove(b).siblings).toHaveLength(256);
    // An index on the long shared path but absent: non-membership through an empty subtree.
    const d = Buffer.alloc(32, 0);
    d[20] = 1;
    const p = m.prove(d);
    expect(p.terminal.kind).toBe('empty');
    expect(verifyMapProof(m.root(), d, p)).toBeNull();
  });
});

describe('the arena layout', () => {
  /** A random log whose indexes come in clusters sharing long prefixes (deep inner chains), and enough subjects to grow the arena past its first capacity. */
  function clusteredLog(seed: number, subjects: number, leaves: number): LogLeaf[] {
    const r = rng(seed);
    const ids: Buffer[] = [];
    while (ids.length < subjects) {
      const base = r.bytes(32);
      ids.push(base);
      if (r.next() < 0.2) {
        // A neighbour differing only from a random bit on (up to the very last).
        const twin = Buffer.from(base);
        const bit = 8 + r.int(248);
        twin[bit >> 3]! ^= 0x80 >> (bit & 7);
        ids.push(twin);
      }
    }
    return Array.from({ length: leaves }, (_, i) => ({ logIndex: i, leafHash: lh(seed * 1e7 + i), index: r.next() < 0.05 ? null : ids[r.int(ids.length)]! }));
  }

  it('gives the same roots, values, entries and proofs byte for byte as the object layout it replaced', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed * 104_729);
      const log = clusteredLog(seed, 1 + r.int(seed <= 4 ? 3000 : 300), r.int(seed <= 4 ? 8000 : 1500));
      const arena = new SubjectMap({ saltOf });
      const objects = new ObjectSubjectMap({ saltOf });
      let at = 0;
      while (at < log.length) {
        const to = Math.min(log.length, at + 1 + r.int(700));
        const batch = entriesOf(log.slice(at, to)).reverse(); // out of order: apply sorts
        arena.apply(batch, to);
        objects.apply(batch, to);
        if (r.next() < 0.3 || to === log.length) expect(arena.root(), `seed ${seed} size ${to}`).toEqual(objects.root());
        at = to;
      }
      expect(arena.size).toBe(objects.size);
      expect(arena.subjectCount).toBe(objects.subjectCount);
      expect([...arena.entries()]).toEqual([...objects.entries()]);
      const probes = [...new Set(log.filter((l) => l.index).map((l) => Buffer.from(l.index!).toString('hex')))].map((h) => Buffer.from(h, 'hex'));
      for (let k = 0; k < 50; k++) {
        probes.push(r.bytes(32));
        const near = Buffer.from(probes[r.int(probes.length)]!);
        near[31]! ^= 1 << r.int(8);
        probes.push(near);
      }
      for (const i of probes) {
        expect(arena.get(i)).toEqual(objects.get(i));
        expect(encodeMapProof(arena.prove(i)).equals(encodeMapProof(objects.prove(i))), `seed ${seed} index ${i.toString('hex')}`).toBe(true);
      }
    }
  });

  it('over seeded random inputs equals mapRootOf from scratch, across growth of the arena', () => {
    for (const seed of [3, 5, 8]) {
      const log = clusteredLog(seed, 2500, 7000);
      const m = new SubjectMap({ saltOf });
      const r = rng(seed);
      let at = 0;
      while (at < log.length) {
        const to = Math.min(log.length, at + 1 + r.int(2000));
        m.apply(entriesOf(log.slice(at, to)), to);
        expect(m.root(), `seed ${seed} size ${to}`).toEqual(referenceRoot(log, to));
        at = to;
      }
      expect(m.subjectCount).toBeGreaterThan(1024);
    }
  });

  it('reports the bytes it uses: 105 per leaf and 41 per inner node, ≈ 1.44 inner nodes per leaf (1/ln 2 for random indexes)', () => {
    const m = new SubjectMap({ saltOf });
    expect(m.memoryUsage()).toMatchObject({ used: 0, leaves: 0, innerNodes: 0 });
    const log = randomLog(4, 5000, 5000);
    m.apply(entriesOf(log), log.length);
    const u = m.memoryUsage();
    expect(u.leaves).toBe(m.subjectCount);
    expect(u.innerNodes).toBeGreaterThanOrEqual(u.leaves - 1);
    expect(u.innerNodes).toBeGreaterThan(1.3 * u.leaves);
    expect(u.innerNodes).toBeLessThan(1.6 * u.leaves);
    expect(u.used).toBe(105 * u.leaves + 41 * u.innerNodes);
    expect(u.allocated).toBeGreaterThanOrEqual(u.used);
    expect(u.allocated).toBeLessThanOrEqual(2 * u.used + (105 + 41) * 1024);
  });
});

describe('map proofs', () => {
  const log = randomLog(11, 200, 1500);
  const m = new SubjectMap({ saltOf });
  m.apply(entriesOf(log), log.length);
  const root = m.root();
  const subject = log.find((l) => l.index)!.index!;
  const list = listOf(log, subject);

  it('are compact: about 32 bytes per level plus the value', () => {
    const bytes = encodeMapProof(m.prove(subject));
    expect(bytes.length).toBeLessThan(3 + 2 + 32 * 16 + 72);
    expect(list.length).toBeGreaterThan(1);
  });

  it('non-membership comes in both shapes, and never shows a count', () => {
    const r = rng(5);
    const kinds = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const i = r.bytes(32);
      const p = m.prove(i);
      kinds.add(p.terminal.kind);
      expect(verifyMapProof(root, i, p)).toBeNull();
      if (p.terminal.kind === 'other') expect(Object.keys(p.terminal).sort()).toEqual(['index', 'kind', 'valueHash']);
    }
    expect(kinds).toEqual(new Set(['empty', 'other']));
  });

  it('any flipped bit of the encoding fails the completeness check', () => {
    const bytes = encodeMapProof(m.prove(subject));
    expect(checkSubjectList(root, subject, decodeMapProof(bytes), list).ok).toBe(true);
    for (let pos = 0; pos < bytes.length; pos++) {
      for (const bit of [0x01, 0x80]) {
        const t = Buffer.from(bytes);
        t[pos]! ^= bit;
        let ok: boolean;
        try {
          ok = checkSubjectList(root, subject, decodeMapProof(t), list).ok;
        } catch (err) {
          expect(err).toBeInstanceOf(MapError);
          ok = false;
        }
        expect(ok, `byte ${pos} bit ${bit}`).toBe(false);
      }
    }
  });

  it('a tampered sibling, value, salt or index fails', () => {
    const p = m.prove(subject);
    if (p.terminal.kind !== 'member') throw new Error('expected membership');
    const t = p.terminal;
    const sib = p.siblings.map((s, i) => (i === 2 ? Buffer.from(s).fill(7, 0, 1) : s));
    expect(() => verifyMapProof(root, subject, { ...p, siblings: sib })).toThrow(MapError);
    // Bitmap tampering = a sibling turned empty or non-empty.
    expect(() => verifyMapProof(root, subject, { ...p, siblings: p.siblings.map((s, i) => (i === 0 ? EMPTY_HASH : s)) })).toThrow(MapError);
    expect(() => verifyMapProof(root, subject, { ...p, siblings: p.siblings.slice(1) })).toThrow(MapError);
    expect(() => verifyMapProof(root, subject, { ...p, terminal: { ...t, count: t.count + 1 } })).toThrow(MapError);
    expect(() => verifyMapProof(root, subject, { ...p, terminal: { ...t, head: sha(t.head) } })).toThrow(MapError);
    // The salt is committed through the head: the proof opens, the list check does not.
    const salted: MapProof = { ...p, terminal: { ...t, salt: sha(t.salt) } };
    expect(checkSubjectList(root, subject, salted, list)).toMatchObject({ ok: false, reason: 'substituted' });
    // Another index: its leaf hash differs, or its path does.
    const other = Buffer.from(subject);
    other[31]! ^= 1;
    expect(() => verifyMapProof(root, other, p)).toThrow(MapError);
    // A membership proof dressed as non-membership (the subject's own leaf as "other").
    expect(() => verifyMapProof(root, subject, { ...p, terminal: { kind: 'other', index: Buffer.from(subject), valueHash: valueHash(t.count, t.head) } })).toThrow(MapError);
    // Another root.
    expect(() => verifyMapProof(sha(root), subject, p)).toThrow(MapError);
  });

  it('rejects proofs against a hand-made, non-canonical or misplaced tree (what only a lying operator builds)', () => {
    const a = Buffer.alloc(32, 0x11); // first bit 0
    const y = Buffer.alloc(32, 0x99); // first bit 1
    const v = valueHash(1, sha(Buffer.from('head')));
    // A lone leaf pushed one level down next to an empty subtree: the canonical tree is the leaf itself.
    const padded = sha([0x24], leafNodeHash(a, v), EMPTY_HASH);
    expect(() => verifyMapProof(padded, a, { siblings: [EMPTY_HASH], terminal: { kind: 'member', count: 1, head: sha(Buffer.from('head')), salt: Buffer.from(saltOf(a)) } })).toThrow(/non-canonical/);
    // A member with no leaves (an honest map never holds one: it would be "present, nothing listed").
    const g = chainGenesis(a, saltOf(a));
    expect(() => verifyMapProof(leafNodeHash(a, valueHash(0, g)), a, { siblings: [], terminal: { kind: 'member', count: 0, head: g, salt: Buffer.from(saltOf(a)) } })).toThrow(/no leaves/);
    // A leaf placed on the wrong side (its first bit is 1, it sits left) "proving" an absence on the left.
    const misplaced = sha([0x24], leafNodeHash(y, v), leafNodeHash(a, v));
    expect(() => verifyMapProof(misplaced, Buffer.alloc(32, 0x22), { siblings: [leafNodeHash(a, v)], terminal: { kind: 'other', index: y, valueHash: v } })).toThrow(/leaves the path/);
  });

  it('an operator cannot prove a present subject absent', () => {
    const p = m.prove(subject);
    // Claim the path ends in an empty subtree, or in a neighbour leaf.
    expect(() => verifyMapProof(root, subject, { siblings: p.siblings, terminal: { kind: 'empty' } })).toThrow(MapError);
    const neighbour = log.find((l) => l.index && Buffer.compare(l.index, subject) !== 0)!.index!;
    const np = m.prove(neighbour);
    const nt = np.terminal;
    if (nt.kind !== 'member') throw new Error('expected membership');
    expect(() => verifyMapProof(root, subject, { siblings: np.siblings, terminal: { kind: 'other', index: Buffer.from(neighbour), valueHash: valueHash(nt.count, nt.head) } })).toThrow(MapError);
  });
});

describe('checkSubjectList: the listed disclosures are exactly the subject’s', () => {
  const log = randomLog(21, 30, 500);
  const m = new SubjectMap({ saltOf });
  m.apply(entriesOf(log), log.length);
  const root = m.root();
  const subject = log.find((l) => l.index)!.index!;
  const proof = decodeMapProof(encodeMapProof(m.prove(subject)));
  const list = listOf(log, subject);
  const otherLeaf = log.find((l) => l.index && Buffer.compare(l.index, subject) !== 0)!;
  const check = (l: ListedLeaf[]) => checkSubjectList(root, subject, proof, l, { treeSize: log.length });

  it('passes the true list', () => {
    expect(list.length).toBeGreaterThanOrEqual(5);
    expect(check(list)).toEqual({ ok: true, count: list.length });
  });

  it('fails with the reason', () => {
    for (let k = 0; k < list.length; k++) {
      expect(check(list.filter((_, i) => i !== k))).toMatchObject({ ok: false, reason: 'missing', committed: list.length, listed: list.length - 1 });
    }
    const withOther = [...list, { logIndex: otherLeaf.logIndex, leafHash: otherLeaf.leafHash }].sort((a, b) => a.logIndex - b.logIndex);
    expect(check(withOther)).toMatchObject({ ok: false, reason: 'extra', committed: list.length, listed: list.length + 1 });
    const swapped = [list[1]!, list[0]!, ...list.slice(2)];
    expect(check(swapped)).toMatchObject({ ok: false, reason: 'reordered', at: 1 });
    // One of another subject's leaves in place of one of theirs (same count, in order).
    const sub = list.map((l, i) => (i === 2 ? { logIndex: l.logIndex, leafHash: otherLeaf.leafHash } : l));
    expect(check(sub)).toMatchObject({ ok: false, reason: 'substituted' });
    // The right leaf hashes at the wrong positions (shifted log indexes, order kept).
    const moved = list.map((l, i) => (i === list.length - 1 ? { logIndex: l.logIndex + 1, leafHash: l.leafHash } : l));
    expect(check(moved)).toMatchObject({ ok: false, reason: 'substituted' });
    // Two leaves' hashes swapped, positions kept.
    const hswap = list.map((l, i) => (i === 0 ? { logIndex: l.logIndex, leafHash: list[1]!.leafHash } : i === 1 ? { logIndex: l.logIndex, leafHash: list[0]!.leafHash } : l));
    expect(check(hswap)).toMatchObject({ ok: false, reason: 'substituted' });
    expect(check([list[0]!, ...list])).toMatchObject({ ok: false, reason: 'duplicate', at: 1 });
    expect(check([...list.slice(0, -1), { logIndex: log.length, leafHash: lh(0) }])).toMatchObject({ ok: false, reason: 'beyond-size' });
    expect(check([])).toMatchObject({ ok: false, reason: 'missing', committed: list.length, listed: 0 });
    expect(checkSubjectList(sha(root), subject, proof, list)).toMatchObject({ ok: false, reason: 'bad-proof' });
  });

  it('an absent subject with a listed leaf fails as extra', () => {
    const absent = sha(Buffer.from('nobody'));
    const p = m.prove(absent);
    expect(checkSubjectList(root, absent, p, [])).toEqual({ ok: true, count: 0 });
    expect(checkSubjectList(root, absent, p, [list[0]!])).toMatchObject({ ok: false, reason: 'extra', committed: 0, listed: 1 });
  });

  it('an older map proof does not cover later leaves (the size is part of what is checked)', () => {
    const cut = list[list.length - 1]!.logIndex; // a map at this size holds all but the last
    const old = new SubjectMap({ saltOf });
    old.apply(entriesOf(log.slice(0, cut)), cut);
    const p = old.prove(subject);
    expect(checkSubjectList(old.root(), subject, p, list.slice(0, -1), { treeSize: cut }).ok).toBe(true);
    expect(checkSubjectList(old.root(), subject, p, list, { treeSize: cut })).toMatchObject({ ok: false, reason: 'beyond-size' });
    expect(checkSubjectList(old.root(), subject, p, list)).toMatchObject({ ok: false, reason: 'extra' });
  });
});

describe('auditMapCommitments: recomputing the map from the log', () => {
  const log = randomLog(31, 40, 900);
  const sizes = [0, 1, 50, 51, 300, 301, 302, 640, 899, 900];
  const honest = (): MapCommitment[] => {
    const m = new SubjectMap({ saltOf });
    let at = 0;
    return sizes.map((s) => {
      m.apply(entriesOf(log.slice(at, s)), s);
      at = s;
      return { size: s, root: m.root() };
    });
  };

  it('accepts the honest commitments', () => {
    const r = auditMapCommitments(log, honest(), { saltOf });
    expect(r).toMatchObject({ ok: true, checked: sizes.length, size: 900 });
  });

  it('names the first diverging size and the last agreeing one, whatever the lie', () => {
    // A committed root replaced.
    const c = honest();
    c[5] = { size: c[5]!.size, root: sha(Buffer.from('lie')) };
    expect(auditMapCommitments(log, c, { saltOf })).toMatchObject({ ok: false, size: 301, lastGoodSize: 300, checked: 6 });
    // The operator's map left one leaf out (a subject-specific omission): found at the first size after it.
    for (const omit of [0, 57, 300, 899]) {
      if (log[omit]!.index === null) continue;
      const lying = new SubjectMap({ saltOf });
      let at = 0;
      const commitments = sizes.map((s) => {
        lying.apply(entriesOf(log.slice(at, s)).filter((e) => e.logIndex !== omit), s);
        at = s;
        return { size: s, root: lying.root() };
      });
      const first = sizes.find((s) => s > omit)!;
      const r = auditMapCommitments(log, commitments, { saltOf });
      expect(r, `omit ${omit}`).toMatchObject({ ok: false, size: first, lastGoodSize: sizes[sizes.indexOf(first) - 1] });
      if (!r.ok) expect(r.detail).not.toMatch(/[0-9a-f]{64}/); // names positions, not subjects
    }
  });

  it('audits incrementally from a map that already covers a prefix', () => {
    const c = honest();
    const m = new SubjectMap({ saltOf });
    expect(auditMapCommitments(log.slice(0, 300), c.slice(0, 5), { saltOf, map: m }).ok).toBe(true);
    expect(m.size).toBe(300);
    expect(auditMapCommitments(log.slice(300), c.slice(5), { saltOf, map: m })).toMatchObject({ ok: true, size: 900 });
  });

  it('rejects a gap in the leaves and a commitment past the end', () => {
    expect(() => auditMapCommitments([log[0]!, log[2]!], [{ size: 3, root: EMPTY_HASH }], { saltOf })).toThrow(MapError);
    expect(() => auditMapCommitments(log.slice(0, 10), [{ size: 11, root: EMPTY_HASH }], { saltOf })).toThrow(MapError);
  });
});

describe('erasure and pseudonym rotation', () => {
  it('the map depends only on leaf hashes and the stable index, not on event contents or pseudonyms', () => {
    // Two epochs of pseudonyms for the same person map to one index (the index is derived from the
    // stable identity, not the pseudonym): the chain simply continues across the rotation.
    const i = idx('citizen');
    const m = new SubjectMap({ saltOf });
    m.apply([{ index: i, logIndex: 0, leafHash: lh(0) }], 1); // epoch 1
    m.apply([{ index: i, logIndex: 1, leafHash: lh(1) }], 2); // epoch 2, new pseudonym key
    const p = m.prove(i);
    expect(checkSubjectList(m.root(), i, p, [{ logIndex: 0, leafHash: lh(0) }, { logIndex: 1, leafHash: lh(1) }]).ok).toBe(true);
    // Key shredding leaves the stored bytes (and so the leaf hashes) as they are: nothing to redo.
  });
});
