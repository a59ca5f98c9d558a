import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_STREAM, ORIGIN_METADATA_KEY, createLogService, decodeEntryBundle, leafHash, signCheckpointEvent, type LogService } from '@sporbar/auditor';
import { devToken, storeEntrySource } from '../src/index.ts';
import { ORIGIN, codec, pgliteTestLog, writeLog, type TestLog, type WrittenLog } from '../../auditor/test/support.ts';
import { bearer, testApp } from './helpers.ts';

/**
 * Auditors' C2SP entry bundles on the access API, over a real store (PGlite) and the auditor's log
 * service in process: only an auditor's token gets them; the bytes are the stored events; their leaf
 * hashes are the log's level-0 tile; nothing beyond the latest signed checkpoint.
 */
const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

let db: PGlite;
let log: TestLog;
let written: WrittenLog;
let service: LogService;
let app: FastifyInstance;
let stored: Buffer[];

beforeAll(async () => {
  db = await PGlite.create();
  log = await pgliteTestLog(db);
  // Checkpoints of 100, 201 and 302 leaves, then 3 uncovered: 306 leaves.
  written = await writeLog(log.store, { every: 100, chunks: 3 });
  stored = [];
  for await (const e of log.store.readAll()) stored.push(Buffer.from(e.data));
  service = createLogService({ store: log.store, codec, publicKey: written.key.publicKey, origin: ORIGIN });
  await service.start();
  ({ app } = await testApp(async () => undefined, { log: service, entries: storeEntrySource(log.store) }));
}, 120_000);
afterAll(async () => {
  await app?.close();
  await service?.stop();
  await log?.close();
  await db?.close();
});

const auditor = bearer(devToken({ role: 'auditor', sub: 'auditor-1' }));
const get = (url: string, headers: Record<string, string> = auditor) => app.inject({ method: 'GET', url, headers });

describe('GET /v1/audit/tile/entries/<N>[.p/<W>]', () => {
  it('401 without a token, 403 for every role but auditor', async () => {
    expect((await get('/v1/audit/tile/entries/000', {})).statusCode).toBe(401);
    expect((await get('/v1/audit/tile/entries/000', { authorization: 'Bearer not.a.token' })).statusCode).toBe(401);
    for (const role of ['dpo', 'caseworker'] as const) {
      const r = await get('/v1/audit/tile/entries/000', bearer(devToken({ role, sub: `${role}-1` })));
      expect(r.statusCode, role).toBe(403);
      expect(r.json()).toMatchObject({ code: 'SPB_ERR_FORBIDDEN' });
    }
    const citizen = await get('/v1/audit/tile/entries/000', bearer(devToken({ role: 'citizen', sub: 'c-1', cpr: '150377-2814' })));
    expect(citizen.statusCode).toBe(403);
  });

  it('a full bundle: the stored events in order, length-prefixed; their leaf hashes are the level-0 tile', async () => {
    const r = await get('/v1/audit/tile/entries/000');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    const body = r.rawPayload;
    // The encoding, read by hand: uint16 big-endian length, then the bytes.
    expect(body.readUInt16BE(0)).toBe(stored[0]!.length);
    expect(body.subarray(2, 2 + stored[0]!.length)).toEqual(stored[0]);
    const entries = decodeEntryBundle(body);
    expect(entries).toEqual(stored.slice(0, 256));
    const tile = service.tile({ level: 0, index: 0, width: 256 })!;
    expect(Buffer.concat(entries.map((e) => sha(Buffer.of(0), e)))).toEqual(tile);
  });

  it('gzip when the client accepts it (C2SP: bundles SHOULD be compressed), identity otherwise', async () => {
    const plain = await get('/v1/audit/tile/entries/000');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gz = await get('/v1/audit/tile/entries/000', { ...auditor, 'accept-encoding': 'gzip, identity' });
    expect(gz.statusCode).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['vary']).toMatch(/accept-encoding/i);
    expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length);
    expect(gunzipSync(gz.rawPayload)).toEqual(plain.rawPayload);
    expect((await get('/v1/audit/tile/entries/000', { ...auditor, 'accept-encoding': 'gzip;q=0, identity' })).headers['content-encoding']).toBeUndefined();
  });

  it('partial bundles inside the latest checkpoint (302 leaves); 404 beyond it', async () => {
    const p = await get('/v1/audit/tile/entries/001.p/46');
    expect(p.statusCode).toBe(200);
    const entries = decodeEntryBundle(p.rawPayload);
    expect(entries).toEqual(stored.slice(256, 302));
    expect(Buffer.concat(entries.map((e) => sha(Buffer.of(0), e)))).toEqual(service.tile({ level: 0, index: 1, width: 46 }));
    expect(decodeEntryBundle((await get('/v1/audit/tile/entries/001.p/1')).rawPayload)).toEqual([stored[256]]);
    for (const path of ['001.p/47', '001.p/50', '001', '002.p/1', '000.p/256', '1', 'x000/001']) {
      const r = await get(`/v1/audit/tile/entries/${path}`);
      expect(r.statusCode, path).toBe(404);
      expect(r.json()).toMatchObject({ code: 'SPB_ERR_NOT_FOUND' });
    }
  });

  it('refuses clearly a leaf too large for a bundle (over 65,535 bytes)', async () => {
    const big = await pgliteTestLog(db);
    const bigData = Buffer.alloc(70_000, 0x41);
    await big.store.append('raw-big', [{ eventId: randomUUID(), type: 'Raw', data: bigData }]);
    const { event } = signCheckpointEvent({ origin: ORIGIN, treeSize: 1, rootHash: leafHash(bigData) }, written.key);
    await big.store.append(CHECKPOINT_STREAM, [{ eventId: event.eventId, type: 'CheckpointSigned', data: codec.encode('CheckpointSigned', event), metadata: { [ORIGIN_METADATA_KEY]: ORIGIN } }]);
    const s = createLogService({ store: big.store, codec, publicKey: written.key.publicKey, origin: ORIGIN });
    await s.start();
    const { app: a } = await testApp(async () => undefined, { log: s, entries: storeEntrySource(big.store) });
    try {
      expect(s.latestCheckpoint()?.treeSize).toBe(1);
      const r = await a.inject({ method: 'GET', url: '/v1/audit/tile/entries/000.p/1', headers: auditor });
      expect(r.statusCode).toBe(413);
      expect(r.json()).toMatchObject({ code: 'SPB_ERR_EVENT_TOO_LARGE', message: expect.stringMatching(/leaf 0 has 70000 bytes.*at most 65535/) });
    } finally {
      await a.close();
      await s.stop();
      await big.close();
    }
  });

  it('is absent without an entry source', async () => {
    const { app: a } = await testApp(async () => undefined, { log: service });
    try {
      expect((await a.inject({ method: 'GET', url: '/v1/audit/tile/entries/000', headers: auditor })).statusCode).toBe(404);
    } finally {
      await a.close();
    }
  });
});
