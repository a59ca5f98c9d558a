import { describe, expect, it } from 'vitest';
import { SubjectMap, SubjectMapLogAudit, subjectMapCommitmentId, subjectMapKeys } from '../src/map/index.ts';
import { leafHash } from '../src/merkle/rfc9162.ts';
import { ORIGIN, codec, disclosure, toAppend } from './support.ts';
import { pseudonymOf } from './map-log.ts';

/**
 * SubjectMapLogAudit on its own, fed real encoded events in order: how often it applies its waiting
 * disclosures, and whether it knew the commitment sizes beforehand, changes nothing in the verdict.
 */
const keys = subjectMapKeys(Buffer.alloc(40, 3));

/** Leaves: disclosures of 4 subjects with commitments (some lagging by a few leaves) every few leaves. */
function leaves(): { data: Buffer[]; sizes: number[] } {
  const data: Buffer[] = [];
  const truth: { logIndex: number; pseudonym: string; leafHash: Buffer }[] = [];
  const sizes: number[] = [];
  let last = 0;
  for (let i = 0; i < 120; i++) {
    if (i % 9 === 8) {
      const treeSize = Math.max(last + 1, data.length - (i % 4));
      const m = new SubjectMap({ saltOf: keys.saltOf });
      m.apply(truth.filter((t) => t.logIndex < treeSize).map((t) => ({ index: keys.indexOf(t.pseudonym), logIndex: t.logIndex, leafHash: t.leafHash })), treeSize);
      data.push(codec.encode('SubjectMapCommitted', { eventId: subjectMapCommitmentId(ORIGIN, treeSize), occurredAt: i, treeSize, rootHash: m.root() }));
      sizes.push(treeSize);
      last = treeSize;
      continue;
    }
    const d = { ...disclosure(i), subject: { scheme: 'PSEUDONYM' as const, value: pseudonymOf(i % 4) } };
    const bytes = toAppend(d as Parameters<typeof toAppend>[0]).data;
    truth.push({ logIndex: data.length, pseudonym: d.subject.value, leafHash: leafHash(bytes) });
    data.push(bytes);
  }
  return { data, sizes };
}

describe('SubjectMapLogAudit', () => {
  const { data, sizes } = leaves();
  const run = (o: { flushEvery?: number; planned?: boolean }) => {
    const a = new SubjectMapLogAudit({ codec, keys, ...(o.flushEvery ? { flushEvery: o.flushEvery } : {}), ...(o.planned ? { plannedSizes: sizes } : {}) });
    data.forEach((d, i) => a.leaf(i, d, leafHash(d)));
    return a.result();
  };

  it('gives the same verdict whatever the flush cadence, with the sizes planned', () => {
    for (const flushEvery of [1, 2, 3, 7, 4096]) {
      expect(run({ flushEvery, planned: true }), `flush every ${flushEvery}`).toMatchObject({ checked: true, commitments: sizes.length, compared: sizes.length, agreed: sizes.length, replan: [], problems: [] });
    }
  });

  it('unplanned: a lagging commitment the map already passed is listed for a second read, never judged wrongly', () => {
    const eager = run({ flushEvery: 1 });
    expect(eager.replan.length).toBeGreaterThan(0);
    expect(eager.problems).toEqual([]);
    expect(eager.agreed).toBe(eager.compared);
    expect(eager.compared + eager.replan.length).toBe(sizes.length);
    // With the default cadence nothing in this short log was applied early: all compared in one pass.
    expect(run({})).toMatchObject({ compared: sizes.length, agreed: sizes.length, replan: [] });
  });

  it('leaves must come in order', () => {
    const a = new SubjectMapLogAudit({ codec, keys });
    expect(() => a.leaf(1, data[0]!, leafHash(data[0]!))).toThrow(RangeError);
  });
});
