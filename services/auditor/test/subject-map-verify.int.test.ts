import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectMapCommitmentId, subjectMapKeys } from '../src/map/index.ts';
import { formatReport, verifyLog, type VerifyReport } from '../src/verify.ts';
import { MapLogWriter, pseudonymOf } from './map-log.ts';
import { ORIGIN, codec, pgliteTestLog, type TestLog } from './support.ts';
import { rng } from './support/seeded-rng.ts';

/**
 * `verify` with the subject map key: the map recomputed from the log in verify's one pass, every
 * SubjectMapCommitted compared with it. Logs written through the store's append with real encoded
 * events; commitment roots from a fresh SubjectMap over the disclosures before them (or a lie).
 */
let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
});
afterAll(async () => {
  await db?.close();
});

async function withLog(fn: (log: TestLog, w: MapLogWriter) => Promise<void>): Promise<void> {
  const log = await pgliteTestLog(db);
  try {
    await fn(log, new MapLogWriter(log.store));
  } finally {
    await log.close();
  }
}

const verify = (log: TestLog, w: MapLogWriter, withKey = true): Promise<VerifyReport> =>
  verifyLog({ source: log.source, codec, publicKey: w.signing, ...(withKey ? { subjectMapKeys: w.keys } : {}) });

const mapFindings = (r: VerifyReport) => r.findings.filter((f) => /map|disclosure/.test(f.kind));

/** 3 subjects, 4 commitments (one lagging: events arrived between its computation and its append), checkpoints after each. */
async function honestLog(w: MapLogWriter): Promise<void> {
  for (const s of [1, 2, 1, 3, 1]) await w.disclosure(s);
  await w.commit(); // size 5 at leaf 5
  await w.checkpoint();
  for (const s of [2, 2, 3]) await w.disclosure(s);
  await w.commit();
  await w.checkpoint();
  await w.disclosure(1);
  const lagging = w.size;
  await w.disclosure(3);
  await w.disclosure(2);
  await w.commit({ treeSize: lagging }); // covers up to before the last two disclosures
  await w.checkpoint();
  for (const s of [4, 1, 4]) await w.disclosure(s);
  await w.commit();
  await w.checkpoint();
}

describe('verify recomputes the subject map from the log', () => {
  it('an honest log with several commitments passes, and says how many were checked', async () => {
    await withLog(async (log, w) => {
      await honestLog(w);
      const r = await verify(log, w);
      expect(r.ok, formatReport(r)).toBe(true);
      expect(r.warnings).toEqual([]);
      const newest = w.commitments.at(-1)!.treeSize;
      expect(r.subjectMap).toEqual({ checked: true, commitments: 4, compared: 4, agreed: 4, newestTreeSize: newest });
      expect(formatReport(r)).toContain(`\n  subject map: 4 commitments checked, the newest at tree size ${newest}`);
    });
  });

  it('without the key the commitments are visible as not checked: a warning, not a failure', async () => {
    await withLog(async (log, w) => {
      await honestLog(w);
      const r = await verify(log, w, false);
      expect(r.ok, formatReport(r)).toBe(true);
      expect(r.subjectMap).toEqual({ checked: false, commitments: 4, compared: 0, agreed: 0 });
      expect(r.warnings.map((f) => f.kind)).toEqual(['subject-map-unchecked']);
      expect(formatReport(r)).toMatch(/^OK \(with warnings\)/);
      expect(formatReport(r)).toContain('4 subject-map commitment(s) that were NOT checked');
    });
  });

  it('a log without commitments: nothing to check, said when the key is given, silent otherwise', async () => {
    await withLog(async (log, w) => {
      for (const s of [1, 2]) await w.disclosure(s);
      await w.checkpoint();
      const r = await verify(log, w);
      expect(r.ok, formatReport(r)).toBe(true);
      expect(r.subjectMap).toEqual({ checked: true, commitments: 0, compared: 0, agreed: 0 });
      expect(formatReport(r)).toContain('subject map: the log holds no commitment yet');
      const without = await verify(log, w, false);
      expect(without.subjectMap).toBeUndefined();
      expect(without.warnings).toEqual([]);
    });
  });

  it('a forged root fails, naming the committed size and the last agreeing one — and no subject', async () => {
    await withLog(async (log, w) => {
      for (const s of [1, 2, 1]) await w.disclosure(s);
      await w.commit(); // size 3 at leaf 3: honest
      for (const s of [2, 3]) await w.disclosure(s);
      const forged = await w.commit({ root: w.rootAt(3) }); // size 6 at leaf 6: the root of size 3
      for (const s of [3, 1]) await w.disclosure(s);
      await w.commit(); // size 9 at leaf 9: honest again
      await w.checkpoint(); // the operator signs it all: only the map shows the lie
      const r = await verify(log, w);
      expect(r.ok).toBe(false);
      const found = mapFindings(r);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ kind: 'subject-map', index: forged.logIndex, position: forged.position, eventId: forged.eventId, range: { fromIndex: 3, toIndex: 5 } });
      expect(found[0]!.message).toContain('commits a map root for tree size 6 that is not the map recomputed from the log');
      expect(found[0]!.message).toContain('agreed up to tree size 3, so the divergence is among log indexes 3..5');
      expect(r.subjectMap).toMatchObject({ commitments: 3, compared: 3, agreed: 2 });
      expect(formatReport(r)).toContain('subject map: 3 commitments, 3 compared with the map recomputed from the log, 2 agree');

      // Positions only: no pseudonym, no map index (hex, base64 or base64url), no salt in what verify says.
      const said = `${formatReport(r)}\n${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
      for (const s of [1, 2, 3]) {
        const p = pseudonymOf(s);
        const x = w.keys.indexOf(p);
        for (const secret of [p, p.slice(7), x.toString('hex'), x.toString('base64'), x.toString('base64url'), Buffer.from(w.keys.saltOf(x)).toString('hex')]) expect(said).not.toContain(secret);
      }
      expect(said).not.toMatch(/[0-9a-f]{64}/i);
    });
  });

  it('a commitment whose tree size is beyond its own leaf index fails (with or without the key)', async () => {
    await withLog(async (log, w) => {
      for (const s of [1, 2]) await w.disclosure(s);
      await w.commit();
      await w.disclosure(1);
      const beyond = await w.commit({ treeSize: 7 }); // leaf 4 committing 7 leaves
      await w.checkpoint();
      for (const withKey of [true, false]) {
        const r = await verify(log, w, withKey);
        expect(r.ok).toBe(false);
        expect(mapFindings(r)).toMatchObject([{ kind: 'misplaced-map-commitment', index: beyond.logIndex, position: beyond.position }]);
        expect(mapFindings(r)[0]!.message).toContain('commits tree size 7, beyond its own leaf index 4');
      }
    });
  });

  it('commitments not in increasing size, and an undecodable commitment, fail', async () => {
    await withLog(async (log, w) => {
      for (const s of [1, 2, 3, 1]) await w.disclosure(s);
      await w.commit(); // 4 at leaf 4
      await w.disclosure(2);
      const back = await w.commit({ treeSize: 3 }); // 3 at leaf 6: honest root, but behind the one before
      const good = await w.commit({ treeSize: 6 }); // 6 at leaf 7 (leaf 6 is the commitment above: fine)
      const bytes = codec.encode('SubjectMapCommitted', { eventId: subjectMapCommitmentId(ORIGIN, 99), occurredAt: 1, treeSize: 8, rootHash: w.rootAt(8) });
      const broken = await w.rawCommitment(bytes.subarray(0, bytes.length - 5), subjectMapCommitmentId(ORIGIN, 99));
      await w.checkpoint();
      const r = await verify(log, w);
      expect(r.ok).toBe(false);
      expect(mapFindings(r)).toMatchObject([
        { kind: 'map-commitment-order', index: back.logIndex, position: back.position },
        { kind: 'undecodable-map-commitment', index: broken },
      ]);
      expect(mapFindings(r)[0]!.message).toContain('commits tree size 3, not beyond the tree size 4 committed at leaf index 4');
      expect(r.subjectMap).toMatchObject({ commitments: 4, compared: 2, agreed: 2, newestTreeSize: good.treeSize });
    });
  });

  it('a commitment outside its stream, of a size the map had passed, is still checked (verify reads again with it planned)', async () => {
    await withLog(async (log, w) => {
      for (const s of [1, 2, 3, 1, 2, 3, 1]) await w.disclosure(s); // leaves 0..6
      const hidden = await w.commit({ treeSize: 4, stream: 'somewhere-else' }); // leaf 7, size 4: unplanned
      const lie = await w.commit({ treeSize: 7 }); // leaf 8, size 7: planned, so the map is at 7 when the pass meets leaf 7
      await w.checkpoint();
      const good = await verify(log, w);
      expect(good.ok, formatReport(good)).toBe(true);
      expect(good.subjectMap).toEqual({ checked: true, commitments: 2, compared: 2, agreed: 2, newestTreeSize: lie.treeSize });
      expect(hidden.logIndex).toBe(7);
    });
    await withLog(async (log, w) => {
      for (const s of [1, 2, 3, 1, 2, 3, 1]) await w.disclosure(s);
      const hidden = await w.commit({ treeSize: 4, stream: 'somewhere-else', root: w.rootAt(4, 2) }); // leaves out leaf 2
      await w.commit({ treeSize: 7 });
      await w.checkpoint();
      const r = await verify(log, w);
      expect(mapFindings(r)).toMatchObject([{ kind: 'subject-map', index: hidden.logIndex, range: { fromIndex: 0, toIndex: 3 } }]);
    });
  });

  it('another map key recomputes another map: every commitment disagrees, in one finding', async () => {
    await withLog(async (log, w) => {
      await honestLog(w);
      const r = await verifyLog({ source: log.source, codec, publicKey: w.signing, subjectMapKeys: subjectMapKeys(Buffer.alloc(32, 7)) });
      expect(r.ok).toBe(false);
      const found = mapFindings(r);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ kind: 'subject-map', index: w.commitments[0]!.logIndex, range: { fromIndex: 0, toIndex: 4 } });
      expect(found[0]!.message).toContain('the 3 commitment(s) right after it disagree as well');
    });
  });
});


describe('property: one corrupted commitment in a random log is caught exactly there', () => {
  const CASES = 60;
  it(`${CASES} seeded random logs (subjects, events, commitment points and lags, checkpoints)`, { timeout: 120_000 }, async () => {
    const modes = { 'other-size': 0, omit: 0 };
    for (let seed = 1; seed <= CASES; seed++) {
      const r = rng(seed);
      const log = await pgliteTestLog(db);
      try {
        const w = new MapLogWriter(log.store);
        const subjects = 1 + r.int(6);
        const mode = seed % 2 === 0 ? 'other-size' : 'omit';
        // Which commitment to corrupt is decided when it is written: the first one after `corruptFrom`
        // leaves where the lie is visible (another size whose root differs / a disclosure to leave out).
        const corruptFrom = 3 + r.int(20);
        let corrupted: { logIndex: number; treeSize: number; previousSize: number } | undefined;
        let previousSize = 0;
        const steps = 15 + r.int(30);
        for (let step = 0; step < steps; step++) {
          const roll = r.next();
          if (roll < 0.7) await w.disclosure(r.int(subjects));
          else if (roll < 0.8) await w.checkpoint();
          else {
            // A commitment of a size between the previous one (exclusive) and its own leaf index: lags of 0..3.
            const room = w.size - previousSize - 1;
            if (room < 0) continue;
            const treeSize = w.size - Math.min(r.int(4), room);
            const honest = w.rootAt(treeSize);
            let lie: Buffer | undefined;
            if (!corrupted && w.size >= corruptFrom) {
              if (mode === 'other-size') {
                const other = Array.from({ length: w.size + 1 }, (_, s) => s).filter((s) => s !== treeSize && !w.rootAt(s).equals(honest));
                if (other.length > 0) lie = w.rootAt(other[r.int(other.length)]!);
              } else {
                const before = w.disclosures.filter((d) => d.logIndex < treeSize);
                if (before.length > 0) lie = w.rootAt(treeSize, before[r.int(before.length)]!.logIndex);
              }
            }
            const c = await w.commit({ treeSize, ...(lie ? { root: lie } : {}) });
            if (lie) {
              expect(lie.equals(honest)).toBe(false);
              corrupted = { logIndex: c.logIndex, treeSize, previousSize };
            }
            previousSize = treeSize;
          }
        }
        await w.checkpoint();
        const report = await verifyLog({ source: log.source, codec, publicKey: w.signing, subjectMapKeys: w.keys });
        const found = mapFindings(report);
        const total = w.commitments.length;
        if (!corrupted) {
          expect(report.ok, `seed ${seed}: ${formatReport(report)}`).toBe(true);
          expect(report.subjectMap).toMatchObject({ commitments: total, compared: total, agreed: total });
          continue;
        }
        modes[mode]++;
        expect(report.ok, `seed ${seed}`).toBe(false);
        expect(report.findings.filter((f) => !/map/.test(f.kind)), `seed ${seed}: ${formatReport(report)}`).toEqual([]);
        expect(found, `seed ${seed}: ${formatReport(report)}`).toMatchObject([
          { kind: 'subject-map', index: corrupted.logIndex, range: { fromIndex: corrupted.previousSize, toIndex: corrupted.treeSize - 1 } },
        ]);
        expect(found[0]!.message).not.toContain('disagree as well');
        expect(report.subjectMap).toMatchObject({ commitments: total, compared: total, agreed: total - 1 });
      } finally {
        await log.close();
      }
    }
    // Most cases carry a lie, of both kinds.
    expect(modes['other-size']).toBeGreaterThan(CASES / 4);
    expect(modes.omit).toBeGreaterThan(CASES / 4);
  });
});
