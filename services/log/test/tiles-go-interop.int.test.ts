import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goPrerequisites, tlogTiles } from '@sporbar/tlog-interop';
import type { EventStore } from '@sporbar/event-store';
import { appendDisclosures, checkpointKeyFiles, createTestDatabase, dropTestDatabase, getJson, logEnv, openStore, probePostgres, startLogProcess, waitFor, type LogProcess } from './support.ts';

/**
 * A monitor nobody here wrote reads Sporbar's tiles: the Go checksum database's tlog.TileHashReader
 * (tiles of height 8 under Go's `tile/8/<L>/…`, translated to C2SP's `tile/<L>/…`) over `sporbar-log`
 * running as a real process on PostgreSQL with 300 and then 551 leaves, so that full and partial tiles
 * of level 0 and partial tiles of level 1 exist for two signed checkpoints. A proxy that alters one
 * byte of a tile makes Go refuse.
 */
const pgProbe = await probePostgres();
const prereq = goPrerequisites();
if (!prereq.ok && process.env.CI === 'true') throw new Error(`CI=true: the Go verifier needs ${prereq.missing.join(', ')}`);

type Checkpoint = { treeSize: number; checkpoint: string };

describe.skipIf(!pgProbe.url || !prereq.ok)("Go's tlog reads the log service's C2SP tiles", () => {
  const key = checkpointKeyFiles();
  let db: { name: string; url: string };
  let store: EventStore;
  let proc: LogProcess;
  let base: string;
  let verifierKey: string;
  let old: Checkpoint;
  let latest: Checkpoint;
  let leaves: Buffer[];
  const proxies: Server[] = [];

  const checkpointOf = (size: number) =>
    waitFor(async () => {
      const r = await getJson<Checkpoint>(`${base}/v1/log/checkpoint`);
      return r.status === 200 && r.body.treeSize >= size ? r.body : undefined;
    }, 60_000, `a checkpoint of ≥ ${size} leaves`);

  beforeAll(async () => {
    db = await createTestDatabase(pgProbe.url!);
    store = await openStore(db.url);
    await appendDisclosures(store, 0, 300);
    proc = startLogProcess(logEnv(db.url, key.keyFile));
    base = await proc.ready;
    old = await checkpointOf(300);
    await appendDisclosures(store, 300, 250);
    latest = await checkpointOf(551);
    verifierKey = (await getJson<{ verifierKey: string }>(`${base}/v1/log/key`)).body.verifierKey;
    leaves = [];
    for await (const e of store.readAll()) leaves.push(Buffer.from(e.data));
  }, 180_000);

  afterAll(async () => {
    for (const p of proxies) p.close();
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
    if (proc) await proc.exited;
    await store?.close();
    if (db) await dropTestDatabase(pgProbe.url!, db.name);
  });

  it('verifies the checkpoint, the tree hash, records proved from tiles, and consistency with the older checkpoint', async () => {
    expect(old.treeSize).toBe(300);
    const size = latest.treeSize;
    const indexes = [0, 1, 255, 256, 299, 300, 511, 512, size - 1];
    const answer = await tlogTiles({ verifierKey, url: base, records: indexes.map((index) => ({ index, leaf: leaves[index]!.toString('base64') })), oldCheckpoint: old.checkpoint });
    expect(answer, JSON.stringify(answer)).toMatchObject({ ok: true, exitCode: 0, size });
    expect(answer.tiles!.checkpoint).toBe(latest.checkpoint);
    expect(answer.tiles!.treeHash).toBe(answer.root);
    expect(answer.tiles!.records).toEqual(indexes.map(() => 'ok'));
    expect(answer.tiles!).toMatchObject({ oldSize: 300, consistency: 'ok' });
    const fetched = new Set(answer.tiles!.fetched);
    // Full and partial level-0 tiles, the level-1 partial of the latest tree and those of the old tree (300 = 256 + 44).
    const w0 = size % 256;
    for (const p of ['tile/0/000', 'tile/0/001', `tile/0/002.p/${w0}`, 'tile/1/000.p/2', 'tile/0/001.p/44', 'tile/1/000.p/1']) expect(fetched.has(p), `${p} in ${[...fetched].join(' ')}`).toBe(true);
  });

  it('refuses a tile altered on the way (one flipped bit), and a record that is not the tile\'s', async () => {
    let altered = '/tile/0/001';
    const proxy = createServer((req, res) => {
      void (async () => {
        const upstream = await fetch(`${base}${req.url}`);
        const body = Buffer.from(await upstream.arrayBuffer());
        if (req.url === altered) body[Math.min(100, body.length - 1)]! ^= 1;
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
        res.end(body);
      })().catch(() => res.destroy());
    });
    proxies.push(proxy);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    // Through the proxy, tile 0/001 (the leaves 256…511) with one bit flipped in the hash of leaf 259.
    const tampered = await tlogTiles({ verifierKey, url, records: [{ index: 259 }, { index: 3 }] });
    expect(tampered).toMatchObject({ ok: false, exitCode: 1 });
    expect(tampered.tiles!.records![0], JSON.stringify(tampered)).toMatch(/invalid|inconsistent/);
    expect(tampered.tiles!.records![1]).toBe('ok'); // tile 0/000 was not touched
    // The level-1 tile altered: the tree hash from the tiles is not the checkpoint's.
    altered = '/tile/1/000.p/2';
    const top = await tlogTiles({ verifierKey, url, records: [{ index: 3 }] });
    expect(top).toMatchObject({ ok: false, exitCode: 1 });
    expect(top.error, JSON.stringify(top)).toMatch(/TreeHash|tree hash/);

    // Through the honest log, a record whose bytes are another leaf's.
    const wrong = await tlogTiles({ verifierKey, url: base, records: [{ index: 5, leaf: leaves[6]!.toString('base64') }] });
    expect(wrong.ok).toBe(false);
    expect(wrong.tiles!.records![0]).toMatch(/not the one in the level-0 tile/);

    // Another key: note.Open refuses the checkpoint.
    const badKey = verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    const refused = await tlogTiles({ verifierKey: badKey, url: base });
    expect(refused.ok).toBe(false);
  });
});
