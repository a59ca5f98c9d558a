import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '@sporbar/access-api';
import { decodeEntryBundle, leafHash } from '@sporbar/auditor';
import { register } from '@sporbar/schemas';
import { startEmbeddedSystem, type EmbeddedSystem } from '../src/index.ts';

/** The embedded default serves auditors the C2SP entry bundle of its log, from the store in process. */
const CPR = '280299-1357';
let system: EmbeddedSystem;
beforeAll(async () => {
  system = await startEmbeddedSystem({ checkpointEveryMs: 60_000 });
  const f = register.activities.find((a) => a.id === 'nemkonto-register')!.flows[0]!;
  for (let i = 0; i < 3; i++) {
    await system.producer.recordDisclosure({ subject: { cpr: CPR }, activity: 'nemkonto-register', recipient: { id: f.recipientId, role: f.roles[0] }, purpose: f.purposeIds[0]!, legalBases: [...f.legalBases], dataCategories: [...f.categoryIds] });
  }
  await system.settle();
});
afterAll(() => system?.close());

describe('entry bundles in the embedded default', () => {
  it("an auditor gets the leaves the latest checkpoint covers; they hash to the log's tile", async () => {
    const size = (await system.checkpointNow())!;
    await expect.poll(() => system.log.latestCheckpoint()?.treeSize).toBe(size);
    const url = `/v1/audit/tile/entries/000.p/${size}`;
    const auditor = { authorization: `Bearer ${devToken({ role: 'auditor', sub: 'auditor-1' })}` };
    const r = await system.app.inject({ method: 'GET', url, headers: auditor });
    expect(r.statusCode).toBe(200);
    const entries = decodeEntryBundle(r.rawPayload);
    expect(entries).toHaveLength(size);
    expect(Buffer.concat(entries.map((e) => leafHash(e)))).toEqual(system.log.tile({ level: 0, index: 0, width: size }));
    expect((await system.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${devToken({ role: 'citizen', sub: 'c', cpr: CPR })}` } })).statusCode).toBe(403);
    expect((await system.app.inject({ method: 'GET', url: `/v1/audit/tile/entries/000.p/${size + 1}`, headers: auditor })).statusCode).toBe(404);
  });
});
