import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointSigned } from '@sporbar/schemas';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { checkpointEventId } from '../src/checkpoint/checkpoint-event.ts';
import { generateSigningKey, verifyTreeHead } from '../src/checkpoint/signed-tree-head.ts';
import { createCheckpointer, type Checkpointer } from '../src/checkpointer.ts';
import { CHECKPOINT_STREAM } from '../src/log/source.ts';
import { streamRoot } from '../src/merkle/compact-range.ts';
import { formatReport, verifyLog } from '../src/verify.ts';
import { ORIGIN, appendDisclosures, codec, pgliteTestLog, postgresTestLog, waitFor, type TestLog } from './support.ts';

const probe = await probePostgres();
if (probe.skip) console.warn(`checkpointer (postgres): skipped: ${probe.skip}`);
let pglite: PGlite;
let pgDb: { name: string; url: string } | undefined;
beforeAll(async () => {
  pglite = await PGlite.create();
  if (probe.url) pgDb = await createTestDatabase(probe.url);
});
afterAll(async () => {
  await pglite?.close();
  if (probe.url && pgDb) await dropTestDatabase(probe.url, pgDb.name);
});

async function checkpointsIn(log: TestLog): Promise<CheckpointSigned[]> {
  const out: CheckpointSigned[] = [];
  for await (const e of log.store.readStream(CHECKPOINT_STREAM)) out.push(codec.decode(e.data).event as CheckpointSigned);
  return out;
}

function suite(name: string, open: () => Promise<TestLog>, skip = false) {
  describe.skipIf(skip)(`checkpointer on ${name}`, () => {
    const key = generateSigningKey();
    const running: Checkpointer[] = [];
    /** What each instance's timer ticks signed, in order. */
    const ticks = new Map<Checkpointer, (number | undefined)[]>();
    const start = async (log: TestLog, everyEvents: number, everyMs: number) => {
      const seen: (number | undefined)[] = [];
      const c = createCheckpointer({ store: log.store, codec, signer: key, origin: ORIGIN, everyEvents, everyMs, onError: (e) => console.error(e), onTick: (s) => seen.push(s) });
      ticks.set(c, seen);
      await c.start();
      running.push(c);
      return c;
    };
    const stopAll = async () => {
      for (const c of running.splice(0)) await c.stop();
    };

    it('signs every N events (checkpoints do not count), and the log verifies', async () => {
      const log = await open();
      try {
        const c = await start(log, 5, 60_000);
        await appendDisclosures(log.store, 0, 12);
        await waitFor(async () => (await checkpointsIn(log)).length === 2 && c.treeSize === 14);
        const cps = await checkpointsIn(log);
        for (const cp of cps) expect(cp.eventId).toBe(checkpointEventId(ORIGIN, cp.treeSize));
        expect(cps.map((x) => x.treeSize).every((s, i, a) => i === 0 || s > a[i - 1]!)).toBe(true);
        await stopAll();
        const report = await verifyLog({ source: log.source, codec, publicKey: key });
        expect(report.ok, formatReport(report)).toBe(true);
        expect(report.checkpointsVerified).toBe(2);
      } finally {
        await stopAll();
        await log.close();
      }
    });

    it('signs after T ms when the tree grew, and not again for its own checkpoint', async () => {
      const log = await open();
      try {
        const c = await start(log, 1000, 150);
        await appendDisclosures(log.store, 0, 3);
        await waitFor(async () => (await checkpointsIn(log)).length === 1);
        // Three more ticks after the one that signed: each finds only its own checkpoint uncovered.
        const seen = ticks.get(c)!;
        await waitFor(async () => seen.indexOf(3) >= 0 && seen.length >= seen.indexOf(3) + 4);
        expect(seen.slice(seen.indexOf(3) + 1)).toEqual(seen.slice(seen.indexOf(3) + 1).map(() => undefined));
        const cps = await checkpointsIn(log);
        expect(cps.map((x) => x.treeSize)).toEqual([3]);
        const root = await streamRoot((async function* () {
          let n = 0;
          for await (const e of log.store.readAll()) if (n++ < 3) yield e.data;
        })());
        expect(Buffer.from(cps[0]!.rootHash).equals(root.rootHash)).toBe(true);
      } finally {
        await stopAll();
        await log.close();
      }
    });

    it('rebuilds the tree from the log on start; a restart or a second instance writes no duplicate', async () => {
      const log = await open();
      try {
        await appendDisclosures(log.store, 0, 7);
        // Two instances at once over the same log (a restart racing the old process): both sign size 7.
        const [a, b] = await Promise.all([start(log, 5, 60_000), start(log, 5, 60_000)]);
        expect(a.treeSize).toBeGreaterThanOrEqual(7);
        await waitFor(async () => (await checkpointsIn(log)).length >= 1 && a.treeSize === 8 && b.treeSize === 8);
        // Both saw the one checkpoint (the store has 8 events) and neither has anything left to sign.
        expect(await log.store.headPosition()).toBe(8n);
        expect([await a.checkpointNow(), await b.checkpointNow()]).toEqual([undefined, undefined]);
        expect((await checkpointsIn(log)).map((x) => x.treeSize)).toEqual([7]);
        await stopAll();
        // A plain restart finds nothing uncovered: no new checkpoint, even on the timer.
        const c = await start(log, 5, 100);
        expect(c.treeSize).toBe(8);
        expect(c.latestCheckpointSize).toBe(7);
        await waitFor(async () => ticks.get(c)!.length >= 3);
        expect(ticks.get(c)!.slice(0, 3)).toEqual([undefined, undefined, undefined]);
        expect((await checkpointsIn(log)).length).toBe(1);
        // And it keeps going from the rebuilt state, by count (a 100 ms timer would also sign part of the
        // five appends on a slow machine, so the next instance's timer is out of the way).
        await stopAll();
        await start(log, 5, 60_000);
        await appendDisclosures(log.store, 7, 5);
        await waitFor(async () => (await checkpointsIn(log)).length === 2);
        await stopAll();
        const cps = await checkpointsIn(log);
        expect(cps[1]!.treeSize).toBe(13);
        const report = await verifyLog({ source: log.source, codec, publicKey: key });
        expect(report.ok, formatReport(report)).toBe(true);
        const text = (await import('../src/checkpoint/checkpoint-event.ts')).checkpointTextOf(cps[1]!, ORIGIN)!;
        expect(verifyTreeHead(text, key, { origin: ORIGIN }).ok).toBe(true);
      } finally {
        await stopAll();
        await log.close();
      }
    });
  });
}

suite('PGlite', () => pgliteTestLog(pglite));
suite('PostgreSQL', () => postgresTestLog(pgDb!.url), probe.skip !== undefined);
