import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '@sporbar/access-api';
import { leafHash, verifyInclusion, verifyTreeHead } from '@sporbar/auditor';
import { register } from '@sporbar/schemas';
import { startEmbeddedSystem, type EmbeddedSystem } from '../src/index.ts';

/** The citizen report carries inclusion proofs that anyone can check against the signed checkpoint. */
const CPR = '280299-1357';
let system: EmbeddedSystem;
beforeAll(async () => {
  system = await startEmbeddedSystem({ checkpointEveryMs: 60_000 });
  const f = register.activities.find((a) => a.id === 'nemkonto-register')!.flows[0]!;
  for (let i = 0; i < 5; i++) {
    await system.producer.recordDisclosure({ subject: { cpr: CPR }, activity: 'nemkonto-register', recipient: { id: f.recipientId, role: f.roles[0] }, purpose: f.purposeIds[0]!, legalBases: [...f.legalBases], dataCategories: [...f.categoryIds] });
  }
  await system.settle();
});
afterAll(() => system?.close());

describe('integrity in the citizen report', () => {
  it('entries not yet under a checkpoint are pending; after one, each proof verifies offline', async () => {
    const get = async (url: string, token?: string) => system.app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const token = devToken({ role: 'citizen', sub: 'c', cpr: CPR });
    const before = (await get('/v1/me/report', token)).json() as { integrity: { pending: string[]; inclusionProofs: unknown[] } };
    expect(before.integrity.inclusionProofs).toEqual([]);
    expect(before.integrity.pending).toHaveLength(5);

    const size = await system.checkpointNow();
    expect(size).toBeGreaterThanOrEqual(5);
    await expect.poll(async () => (await get('/v1/log/checkpoint')).statusCode).toBe(200);
    const key = (await get('/v1/log/key')).json() as { publicKeyPem: string; origin: string };
    const report = (await get('/v1/me/report', token)).json() as {
      integrity: { checkpoint: { checkpoint: string; treeSize: number; rootHash: string }; inclusionProofs: Array<{ eventId: string; leafIndex: number; treeSize: number; leafHash: string; proof: string[] }>; pending: string[] };
    };
    const { checkpoint, inclusionProofs } = report.integrity;
    expect(inclusionProofs).toHaveLength(5);
    const head = verifyTreeHead(checkpoint.checkpoint, key.publicKeyPem, { origin: key.origin });
    expect(head.ok).toBe(true);
    const root = Buffer.from(checkpoint.rootHash, 'base64');
    const stored = new Map<string, Uint8Array>();
    for await (const e of system.store.readAll()) stored.set(e.eventId, e.data);
    for (const p of inclusionProofs) {
      // The leaf is the hash of exactly the stored bytes.
      expect(Buffer.from(p.leafHash, 'base64').equals(leafHash(stored.get(p.eventId)!))).toBe(true);
      const proof = p.proof.map((h) => Buffer.from(h, 'base64'));
      expect(verifyInclusion(p.leafIndex, checkpoint.treeSize, Buffer.from(p.leafHash, 'base64'), proof, root)).toBe(true);
      // A flipped bit in the leaf fails.
      const bad = Buffer.from(p.leafHash, 'base64');
      bad[0]! ^= 1;
      expect(verifyInclusion(p.leafIndex, checkpoint.treeSize, bad, proof, root)).toBe(false);
    }
    expect(createHash('sha256').update(Buffer.concat([Buffer.from([0]), stored.get(inclusionProofs[0]!.eventId)!])).digest().toString('base64')).toBe(inclusionProofs[0]!.leafHash);
  });
});
