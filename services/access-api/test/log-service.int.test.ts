import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash, verifyInclusion, verifyTreeHead } from '@sporbar/auditor';
import type { EventStore } from '@sporbar/event-store';
import { createLogClient } from '@sporbar/log/client';
import { devToken } from '../src/index.ts';
import { ME, bearer, row, testApp } from './helpers.ts';
import {
  ORIGIN,
  checkpointKeyFiles,
  createTestDatabase,
  disclosure,
  dropTestDatabase,
  getJson,
  logEnv,
  openStore,
  probePostgres,
  startLogProcess,
  toAppend,
  waitFor,
  type LogProcess,
} from '../../log/test/support.ts';

/**
 * The access API in production asks the log service (SPORBAR_LOG_URL) over HTTP: the citizen report's
 * integrity section (the latest checkpoint, inclusion proofs in one batch request, pending entries)
 * and /v1/log/*. The log service here is the real `sporbar-log` process over a fresh PostgreSQL
 * database holding the two disclosures the test app's read models list (their event ids). When the log
 * service is gone, the report still answers, its integrity `unavailable`.
 */
const pgProbe = await probePostgres();

type Integrity = {
  status: string;
  checkpoint: { checkpoint: string; treeSize: number; rootHash: string } | null;
  inclusionProofs: Array<{ eventId: string; leafIndex: number; treeSize: number; leafHash: string; proof: string[] }>;
  pending: string[];
};

describe.skipIf(!pgProbe.url)('the access API over the log service', () => {
  let db: { name: string; url: string };
  let store: EventStore;
  let log: LogProcess;
  let base: string;
  const key = checkpointKeyFiles();
  const ids = [row('s', 1).event_id, row('s', 2).event_id];

  beforeAll(async () => {
    db = await createTestDatabase(pgProbe.url!);
    store = await openStore(db.url);
    // Other events around the two the report lists, so the proofs are not trivial.
    for (let i = 0; i < 9; i++) {
      const d = i === 3 || i === 6 ? { ...disclosure(i), eventId: ids[i === 3 ? 0 : 1]! } : disclosure(i);
      await store.append(`subject-${d.subject.value}`, [toAppend(d)]);
    }
    log = startLogProcess(logEnv(db.url, key.keyFile));
    base = await log.ready;
    await waitFor(async () => (await getJson<{ treeSize: number }>(`${base}/v1/log/checkpoint`)).body.treeSize >= 9, 30_000, 'a checkpoint of the nine events');
  });
  afterAll(async () => {
    if (log && log.child.exitCode === null) log.child.kill('SIGKILL');
    await log?.exited;
    await store?.close();
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
  });

  it("the report's integrity carries the log service's checkpoint and inclusion proofs, which verify; /v1/log/* is served through it", async () => {
    const { app } = await testApp(async () => undefined, { log: createLogClient({ url: base }) });
    const token = devToken({ role: 'citizen', sub: 'citizen-1', cpr: ME });
    const r = await app.inject({ method: 'GET', url: '/v1/me/report', headers: bearer(token) });
    expect(r.statusCode).toBe(200);
    const integrity = (r.json() as { integrity: Integrity }).integrity;
    expect(integrity.status).toBe('ok');
    expect(integrity.pending).toEqual([]);
    const checkpoint = integrity.checkpoint!;
    const keyR = await app.inject({ method: 'GET', url: '/v1/log/key' });
    expect(keyR.statusCode).toBe(200);
    const served = keyR.json() as { publicKeyPem: string; origin: string };
    expect(served.publicKeyPem.trim()).toBe(key.publicKeyPem.trim());
    expect(verifyTreeHead(checkpoint.checkpoint, key.publicKeyPem, { origin: ORIGIN }).ok).toBe(true);
    const stored = new Map<string, Uint8Array>();
    for await (const e of store.readAll()) stored.set(e.eventId, e.data);
    expect(integrity.inclusionProofs.map((p) => p.eventId).sort()).toEqual([...ids].sort());
    for (const p of integrity.inclusionProofs) {
      const leaf = Buffer.from(p.leafHash, 'base64');
      expect(leaf.equals(leafHash(stored.get(p.eventId)!))).toBe(true);
      expect(verifyInclusion(p.leafIndex, checkpoint.treeSize, leaf, p.proof.map((h) => Buffer.from(h, 'base64')), Buffer.from(checkpoint.rootHash, 'base64'))).toBe(true);
    }
    // The API's /v1/log/* are the log service's answers.
    const viaApi = await app.inject({ method: 'GET', url: '/v1/log/checkpoint' });
    expect(viaApi.json()).toEqual((await getJson(`${base}/v1/log/checkpoint`)).body);
    const proof = await app.inject({ method: 'GET', url: `/v1/log/proof/inclusion?eventId=${ids[0]}` });
    expect(proof.statusCode).toBe(200);
    const missing = await app.inject({ method: 'GET', url: '/v1/log/proof/inclusion?eventId=0f0f0f0f-0000-4000-8000-000000000000' });
    expect(missing.statusCode).toBe(404);
    await app.close();
  });

  it('with the log service gone the report still answers: integrity unavailable, every entry pending; /v1/log/* is a 503', async () => {
    log.child.kill('SIGTERM');
    expect(await log.exited).toBe(0);
    const { app } = await testApp(async () => undefined, { log: createLogClient({ url: base, timeoutMs: 500 }) });
    const token = devToken({ role: 'citizen', sub: 'citizen-1', cpr: ME });
    const r = await app.inject({ method: 'GET', url: '/v1/me/report', headers: bearer(token) });
    expect(r.statusCode).toBe(200);
    const integrity = (r.json() as { integrity: Integrity }).integrity;
    expect(integrity).toEqual({ status: 'unavailable', reason: expect.stringMatching(/^the log could not be asked: /), checkpoint: null, inclusionProofs: [], pending: ids.slice().reverse() });
    const cp = await app.inject({ method: 'GET', url: '/v1/log/checkpoint' });
    expect(cp.statusCode).toBe(503);
    expect(cp.json()).toMatchObject({ code: 'SPB_ERR_LOG_UNAVAILABLE' });
    await app.close();
  });
});
