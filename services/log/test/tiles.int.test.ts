import { createHash } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogService, verifyTreeHead, type LogService } from '@sporbar/auditor';
import { tileRoutes } from '../src/tiles.ts';
import { ORIGIN, codec, pgliteTestLog, writeLog, type TestLog, type WrittenLog } from '../../auditor/test/support.ts';

/**
 * The C2SP tlog-tiles read path over the auditor's log service (fastify inject): headers, which tiles
 * exist (full ones inside the latest checkpoint, partial ones of the widths signed checkpoints give),
 * and tile bytes equal to hashes recomputed here from the stored leaves with node:crypto alone.
 */
// Independent RFC 6962 hashing, straight from the definition.
const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return sha(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

let db: PGlite;
let log: TestLog;
let written: WrittenLog;
let service: LogService;
let app: FastifyInstance;
let leaves: Buffer[];

beforeAll(async () => {
  db = await PGlite.create();
  log = await pgliteTestLog(db);
  // 6 chunks of 100 disclosures, each followed by its checkpoint: checkpoints of 100, 201, 302, 403, 504 and 605 leaves; 609 leaves.
  written = await writeLog(log.store, { every: 100, chunks: 6 });
  leaves = [];
  for await (const e of log.store.readAll()) leaves.push(sha(Buffer.of(0), e.data));
  service = createLogService({ store: log.store, codec, publicKey: written.key.publicKey, origin: ORIGIN });
  await service.start();
  app = Fastify();
  await app.register(tileRoutes, { log: service });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await service?.stop();
  await log?.close();
  await db?.close();
});

const get = async (url: string) => {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
};

describe('C2SP tiles over the log service', () => {
  it('serves the checkpoints the test wrote', () => {
    expect(written.checkpoints.map((c) => c.treeSize)).toEqual([100, 201, 302, 403, 504, 605]);
    expect(leaves).toHaveLength(609);
    expect(service.latestCheckpoint()?.treeSize).toBe(605);
  });

  it('GET /checkpoint: the latest signed note exactly, text/plain, short-lived', async () => {
    const r = await get('/checkpoint');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['cache-control']).toMatch(/max-age=[0-5]\b/);
    expect(r.body.toString('utf8')).toBe(written.checkpoints[5]!.text);
    expect(verifyTreeHead(r.body.toString('utf8'), written.key, { origin: ORIGIN }).ok).toBe(true);
  });

  it('full tiles: the leaf hashes (level 0), immutable, application/octet-stream', async () => {
    for (const [n, path] of [[0, '/tile/0/000'], [1, '/tile/0/001']] as const) {
      const r = await get(path);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/octet-stream');
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(r.body.length).toBe(8192);
      expect(r.body).toEqual(Buffer.concat(leaves.slice(256 * n, 256 * n + 256)));
    }
  });

  it("partial tiles of the latest checkpoint (605 leaves): level 0 width 93, level 1 width 2 (MTH of each full level-0 tile)", async () => {
    const p0 = await get('/tile/0/002.p/93');
    expect(p0.status).toBe(200);
    expect(p0.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(p0.body).toEqual(Buffer.concat(leaves.slice(512, 605)));
    const p1 = await get('/tile/1/000.p/2');
    expect(p1.status).toBe(200);
    expect(p1.body).toEqual(Buffer.concat([mth(leaves.slice(0, 256)), mth(leaves.slice(256, 512))]));
  });

  it('partial tiles of older signed checkpoints are still served (302 → level-0 width 46, level-1 width 1)', async () => {
    expect((await get('/tile/0/001.p/46')).body).toEqual(Buffer.concat(leaves.slice(256, 302)));
    expect((await get('/tile/0/001.p/147')).status).toBe(200); // 403
    expect((await get('/tile/0/001.p/248')).status).toBe(200); // 504
    expect((await get('/tile/0/000.p/100')).body).toEqual(Buffer.concat(leaves.slice(0, 100)));
    expect((await get('/tile/1/000.p/1')).body).toEqual(mth(leaves.slice(0, 256)));
  });

  it('404 for tiles no signed checkpoint requires, and for anything not a C2SP tile path', async () => {
    for (const path of [
      '/tile/0/002', // full only at 768 leaves
      '/tile/0/002.p/94', // the tree has 609 leaves, but no checkpoint of 606
      '/tile/0/002.p/96', // 608: no checkpoint either
      '/tile/0/002.p/92',
      '/tile/0/001.p/45', // no checkpoint of 301
      '/tile/0/003.p/1',
      '/tile/1/000', // full at 65,536
      '/tile/1/000.p/3',
      '/tile/2/000.p/1',
      '/tile/0/1',
      '/tile/0/x000/000',
      '/tile/8/0/000',
      '/tile/0/000.p/0',
      '/tile/0/000.p/256',
      '/tile/entries/000', // not public
      '/tile/entries/002.p/93',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.headers['cache-control'], path).toBe('no-store');
    }
    expect(JSON.parse((await get('/tile/entries/000')).body.toString()).message).toMatch(/not public/);
  });

  it("a monitor's view: the root recomputed from the tiles alone equals the checkpoint's", async () => {
    const note = verifyTreeHead((await get('/checkpoint')).body.toString(), written.key, { origin: ORIGIN });
    expect(note.ok).toBe(true);
    if (!note.ok) return;
    const fromTiles = Buffer.concat([(await get('/tile/0/000')).body, (await get('/tile/0/001')).body, (await get('/tile/0/002.p/93')).body]);
    const hashes = Array.from({ length: fromTiles.length / 32 }, (_, i) => fromTiles.subarray(32 * i, 32 * i + 32));
    expect(hashes).toHaveLength(note.treeHead.treeSize);
    expect(mth(hashes)).toEqual(Buffer.from(note.treeHead.rootHash));
    // With the level-1 tile a monitor needs only the last level-0 tile: 605 = 512 + 93, MTH(D[0:512]) is the node over the two level-1 hashes.
    const l1 = (await get('/tile/1/000.p/2')).body;
    expect(sha(Buffer.of(1), sha(Buffer.of(1), l1.subarray(0, 32), l1.subarray(32, 64)), mth(hashes.slice(512)))).toEqual(Buffer.from(note.treeHead.rootHash));
  });

  it('before any checkpoint: /checkpoint and every tile are 404', async () => {
    const empty = await pgliteTestLog(db);
    const s = createLogService({ store: empty.store, codec, publicKey: written.key.publicKey, origin: ORIGIN });
    await s.start();
    const a = Fastify();
    await a.register(tileRoutes, { log: s });
    try {
      expect((await a.inject({ method: 'GET', url: '/checkpoint' })).statusCode).toBe(404);
      expect((await a.inject({ method: 'GET', url: '/tile/0/000.p/1' })).statusCode).toBe(404);
    } finally {
      await a.close();
      await s.stop();
      await empty.close();
    }
  });
});
