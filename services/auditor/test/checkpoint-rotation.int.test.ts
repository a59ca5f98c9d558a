import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORIGIN_METADATA_KEY, signCheckpointEvent } from '../src/checkpoint/checkpoint-event.ts';
import { generateSigningKey, type SigningKey } from '../src/checkpoint/signed-tree-head.ts';
import { CHECKPOINT_STREAM } from '../src/log/source.ts';
import { CompactRange } from '../src/merkle/compact-range.ts';
import { formatReport, verifyLog } from '../src/verify.ts';
import { ORIGIN, codec, disclosure, pgliteTestLog, toAppend, type TestLog } from './support.ts';

/**
 * A checkpoint key rotation (`sporbar keys rotate checkpoint`): the log holds checkpoints signed under
 * the old key, then under the new one. verify picks each checkpoint's key by the key id it names:
 * with the old key given as previous, every checkpoint verifies; without it, the old ones are reported.
 */
let pglite: PGlite;
let log: TestLog;
const [oldKey, newKey] = [generateSigningKey(), generateSigningKey()];

beforeAll(async () => {
  pglite = await PGlite.create();
  log = await pgliteTestLog(pglite);
  const range = new CompactRange();
  let n = 0;
  const checkpoint = async (key: SigningKey) => {
    for (let i = 0; i < 5; i++) {
      const d = disclosure(n++);
      await log.store.append(`subject-${d.subject.value}`, [toAppend(d)]);
      range.appendLeaf(codec.encode('DisclosureRecorded', d));
    }
    const { event } = signCheckpointEvent({ origin: ORIGIN, treeSize: range.size, rootHash: range.root() }, key);
    const data = codec.encode('CheckpointSigned', event);
    await log.store.append(CHECKPOINT_STREAM, [{ eventId: event.eventId, type: 'CheckpointSigned', data, metadata: { [ORIGIN_METADATA_KEY]: ORIGIN } }]);
    range.appendLeaf(data);
  };
  for (const key of [oldKey, oldKey, newKey, newKey]) await checkpoint(key);
});
afterAll(async () => {
  await log?.close();
  await pglite?.close();
});

describe('verify after a checkpoint key rotation', () => {
  it('verifies every checkpoint with the current and the previous key, each chosen by its key id', async () => {
    const report = await verifyLog({ source: log.source, codec, publicKey: newKey, previousPublicKeys: [oldKey.publicKey.export({ format: 'pem', type: 'spki' }).toString()] });
    expect(report.ok, formatReport(report)).toBe(true);
    expect(report.checkpointsVerified).toBe(4);
  });

  it('without the previous key, the checkpoints signed under it are reported', async () => {
    const report = await verifyLog({ source: log.source, codec, publicKey: newKey });
    expect(report.ok).toBe(false);
    expect(report.findings.filter((f) => f.kind === 'signature')).toHaveLength(2);
    // and a key that signed nothing here verifies nothing, whatever it is called
    const stranger = await verifyLog({ source: log.source, codec, publicKey: generateSigningKey(), previousPublicKeys: [generateSigningKey()] });
    expect(stranger.findings.filter((f) => f.kind === 'signature')).toHaveLength(4);
  });
});
