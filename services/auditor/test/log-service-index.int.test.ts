import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogService, type LogService } from '../src/log-service.ts';
import { ORIGIN, appendDisclosures, codec, pgliteTestLog, writeLog, type TestLog } from './support.ts';

/**
 * The log service finds an event's leaf through the store (`positionsOf`, leaf = position − 1, no
 * Map per event) or through its own Map: both give the same proofs, also across a gap in the
 * positions (an event deleted behind the store's back), and neither proves an event it has not seen.
 */
let db: PGlite;
let log: TestLog;
let viaStore: LogService;
let viaMap: LogService;
let ids: string[];

beforeAll(async () => {
  db = await PGlite.create();
  log = await pgliteTestLog(db);
  const written = await writeLog(log.store, { every: 5, chunks: 3, tail: 2 }); // 20 leaves
  ids = written.leaves;
  // Two gaps: positions 4 and 9 deleted (as tampering would), so leaf ≠ position − 1 after them.
  await log.sql('DELETE FROM {events} WHERE global_position IN (4, 9)');
  viaStore = createLogService({ store: log.store, codec, publicKey: written.key.publicKey, origin: ORIGIN, index: 'store' });
  viaMap = createLogService({ store: log.store, codec, publicKey: written.key.publicKey, origin: ORIGIN, index: 'memory' });
  await viaStore.start();
  await viaMap.start();
});
afterAll(async () => {
  await viaStore?.stop();
  await viaMap?.stop();
  await log?.close();
  await db?.close();
});

describe('the log service index', () => {
  it('store look-up and Map agree on every leaf, one by one and in a batch, across gaps in the positions', async () => {
    expect(viaStore.treeSize).toBe(18);
    const present = ids.filter((_, i) => i !== 3 && i !== 8);
    const deleted = [ids[3]!, ids[8]!];
    for (const id of present) {
      const [a, b] = await Promise.all([viaStore.inclusionProof(id, 18), viaMap.inclusionProof(id, 18)]);
      expect(a).toEqual(b);
    }
    for (const id of deleted) await expect(viaStore.inclusionProof(id, 18)).rejects.toMatchObject({ code: 'SPB_ERR_NOT_FOUND' });
    const [a, b] = await Promise.all([viaStore.inclusionProofs([...present, ...deleted], 18), viaMap.inclusionProofs([...present, ...deleted], 18)]);
    expect(a).toEqual(b);
    expect(a.pending).toEqual(deleted);
    expect(a.proofs).toHaveLength(present.length);
  });

  it('an event stored after the tree it was asked against is pending, not proved', async () => {
    await viaStore.stop();
    const [late] = await appendDisclosures(log.store, 500, 1);
    // The store holds it; the stopped service's tree does not.
    expect((await log.store.positionsOf!([late!])).size).toBe(1);
    const r = await viaStore.inclusionProofs([late!], 18);
    expect(r.pending).toEqual([late]);
    await expect(viaStore.inclusionProof(late!, 18)).rejects.toMatchObject({ code: 'SPB_ERR_NOT_FOUND' });
  });
});
