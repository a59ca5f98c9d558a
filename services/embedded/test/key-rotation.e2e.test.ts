import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, devPublicKey, devToken } from '@sporbar/access-api';
import { register } from '@sporbar/schemas';
import { createPseudonymiser } from '@sporbar/key-store';
import { startEmbeddedSystem, type DevKeys, type EmbeddedSystem } from '../src/index.ts';

/** Pseudonym key rotation: after it, what was stored under the old key is still found for the citizen. */
const CPR = '170588-2468';
const dataDir = mkdtempSync(join(tmpdir(), 'sporbar-rotation-'));
let system: EmbeddedSystem;
beforeAll(async () => {
  system = await startEmbeddedSystem({ dataDir });
  const f = register.activities.find((a) => a.id === 'mitid-core')!.flows[0]!;
  for (let i = 0; i < 3; i++) {
    await system.producer.recordDisclosure({ subject: { cpr: CPR }, activity: 'mitid-core', recipient: { id: f.recipientId, role: f.roles[0] }, purpose: f.purposeIds[0]!, legalBases: [...f.legalBases], dataCategories: [...f.categoryIds] });
  }
  await system.settle();
});
afterAll(async () => {
  await system?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('pseudonym key rotation', () => {
  it('the old pseudonyms stay findable when the old key is kept as a previous key', async () => {
    const old = (JSON.parse(readFileSync(join(dataDir, 'dev-keys.json'), 'utf8')) as DevKeys).pseudonymKey;
    const next = { id: 'dev2', secret: randomBytes(32).toString('base64url') };
    const build = (pseudonymiser: ReturnType<typeof createPseudonymiser>) =>
      buildApp({ readModels: system.readModels, register, pseudonymiser, views: system.producer, jwtPublicKey: devPublicKey(), production: false });
    const token = devToken({ role: 'citizen', sub: 'c', cpr: CPR });
    const count = async (app: Awaited<ReturnType<typeof build>>) =>
      ((await app.inject({ method: 'GET', url: '/v1/me/disclosures', headers: { authorization: `Bearer ${token}` } })).json() as { items: unknown[] }).items.length;

    const rotated = await build(createPseudonymiser(next, [old]));
    const forgotten = await build(createPseudonymiser(next));
    expect(createPseudonymiser(next, [old]).all(CPR).map((p) => p.slice(0, 9))).toEqual(['psn_dev2_', 'psn_dev1_']);
    expect(await count(rotated)).toBe(3);
    expect(await count(forgotten)).toBe(0); // without the previous key the old entries would be lost to the citizen
    const report = (await rotated.inject({ method: 'GET', url: '/v1/me/report', headers: { authorization: `Bearer ${token}` } })).json() as { subject: string; totalDisclosures: number };
    expect(report.subject.startsWith('psn_dev2_')).toBe(true);
    expect(report.totalDisclosures).toBe(3);
    await rotated.close();
    await forgotten.close();
  });
});
