import { PGlite } from '@electric-sql/pglite';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_STREAM,
  ORIGIN_METADATA_KEY,
  createCheckpointer,
  createLogService,
  generateSigningKey,
  noteKeyId,
  signCheckpointEvent,
  verifierKeyString,
  verifyConsistency,
  verifyInclusion,
  verifyTreeHead,
  type LogService,
} from '@sporbar/auditor';
import { logRoutes } from '../src/routes.ts';
import { ORIGIN, appendDisclosures, codec, pgliteTestLog, waitFor, writeLog, type TestLog, type WrittenLog } from '../../auditor/test/support.ts';

const b = (s: string) => Buffer.from(s, 'base64');
let db: PGlite;
let log: TestLog;
let written: WrittenLog;
let service: LogService;
let app: FastifyInstance;

beforeAll(async () => {
  db = await PGlite.create();
  log = await pgliteTestLog(db);
  written = await writeLog(log.store); // 69 leaves, checkpoints at sizes 10, 21, 32, 43, 54, 65
  service = createLogService({ store: log.store, codec, publicKey: written.key.publicKey, origin: ORIGIN });
  await service.start();
  app = Fastify();
  await app.register(logRoutes, { log: service });
});
afterAll(async () => {
  await app?.close();
  await service?.stop();
  await log?.close();
  await db?.close();
});

const get = async (url: string) => {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
};

describe('log routes (fastify inject) over the log service', () => {
  it('GET /v1/log/key gives the public key and its id', async () => {
    const { status, body } = await get('/v1/log/key');
    expect(status).toBe(200);
    expect(body).toMatchObject({ keyId: noteKeyId(ORIGIN, written.key.publicKeyRaw), verifierKey: verifierKeyString(ORIGIN, written.key.publicKeyRaw), origin: ORIGIN, algorithm: 'ED25519' });
    expect(String(body['publicKeyPem'])).toContain('BEGIN PUBLIC KEY');
  });

  it('GET /v1/log/checkpoint gives the newest signed checkpoint, which verifies', async () => {
    const { status, body } = await get('/v1/log/checkpoint');
    expect(status).toBe(200);
    expect(body).toMatchObject({ treeSize: 65, keyId: noteKeyId(ORIGIN, written.key.publicKeyRaw), leafIndex: 65, position: '66', eventId: written.checkpoints[5]!.eventId });
    expect(body['checkpoint']).toBe(written.checkpoints[5]!.text);
    const v = verifyTreeHead(String(body['checkpoint']), String((await get('/v1/log/key')).body['publicKeyPem']), { origin: ORIGIN });
    expect(v.ok).toBe(true);
  });

  it('GET /v1/log/proof/inclusion proves an event against the latest checkpoint or a given size', async () => {
    const id = written.leaves[3]!;
    const { status, body } = await get(`/v1/log/proof/inclusion?eventId=${id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ eventId: id, leafIndex: 3, treeSize: 65, checkpoint: written.checkpoints[5]!.text });
    const cp = verifyTreeHead(String(body['checkpoint']), written.key, { origin: ORIGIN });
    expect(cp.ok && verifyInclusion(3, 65, b(String(body['leafHash'])), (body['proof'] as string[]).map(b), cp.treeHead.rootHash)).toBe(true);

    const at10 = await get(`/v1/log/proof/inclusion?eventId=${id.toUpperCase()}&treeSize=10`);
    expect(at10.status).toBe(200);
    expect(at10.body['checkpoint']).toBe(written.checkpoints[0]!.text);
    // Any size is answered (no checkpoint text unless one exists at that size).
    const at7 = await get(`/v1/log/proof/inclusion?eventId=${id}&treeSize=7`);
    expect(at7.status).toBe(200);
    expect(at7.body['checkpoint']).toBeUndefined();
  });

  it('answers bad requests and unknown events with SPB_ERR_* codes', async () => {
    expect(await get(`/v1/log/proof/inclusion?eventId=${written.leaves[3]}&treeSize=3`)).toMatchObject({ status: 400, body: { code: 'SPB_ERR_BAD_REQUEST' } });
    expect(await get(`/v1/log/proof/inclusion?eventId=${written.leaves[3]}&treeSize=1000`)).toMatchObject({ status: 400, body: { code: 'SPB_ERR_BAD_REQUEST' } });
    expect(await get('/v1/log/proof/inclusion?eventId=not-a-uuid')).toMatchObject({ status: 400, body: { code: 'SPB_ERR_BAD_REQUEST' } });
    expect(await get('/v1/log/proof/inclusion')).toMatchObject({ status: 400, body: { code: 'SPB_ERR_BAD_REQUEST' } });
    expect(await get('/v1/log/proof/inclusion?eventId=00000000-0000-4000-8000-000000000000')).toMatchObject({ status: 404, body: { code: 'SPB_ERR_NOT_FOUND' } });
    // In the log but after the newest checkpoint: not covered yet.
    const tail = await get(`/v1/log/proof/inclusion?eventId=${written.leaves[67]}`);
    expect(tail).toMatchObject({ status: 404, body: { code: 'SPB_ERR_NOT_FOUND' } });
    expect(String(tail.body['message'])).toContain('not yet covered by a checkpoint');
    expect(await get('/v1/log/proof/consistency?from=70&to=65')).toMatchObject({ status: 400, body: { code: 'SPB_ERR_BAD_REQUEST' } });
    expect(await get('/v1/log/proof/consistency?from=1&to=9999')).toMatchObject({ status: 400, body: { code: 'SPB_ERR_BAD_REQUEST' } });
    expect(await get('/v1/log/proof/consistency?from=-1&to=3')).toMatchObject({ status: 400, body: { code: 'SPB_ERR_BAD_REQUEST' } });
  });

  it('GET /v1/log/proof/consistency proves one checkpoint extends another', async () => {
    const { status, body } = await get('/v1/log/proof/consistency?from=10&to=65');
    expect(status).toBe(200);
    const [c10, c65] = [written.checkpoints[0]!, written.checkpoints[5]!].map((c) => verifyTreeHead(c.text, written.key));
    expect(c10!.ok && c65!.ok).toBe(true);
    if (!c10!.ok || !c65!.ok) return;
    expect(body['fromRoot']).toBe(Buffer.from(c10!.treeHead.rootHash).toString('base64'));
    expect(verifyConsistency(10, 65, c10!.treeHead.rootHash, c65!.treeHead.rootHash, (body['proof'] as string[]).map(b))).toBe(true);
    // `to` defaults to the newest checkpoint.
    expect((await get('/v1/log/proof/consistency?from=10')).body).toEqual(body);
  });

  it('follows the live log: a new checkpoint is served; a forged one never is', async () => {
    const forged = signCheckpointEvent({ origin: ORIGIN, treeSize: 69, rootHash: Buffer.alloc(32, 1) }, generateSigningKey()).event;
    await log.store.append(CHECKPOINT_STREAM, [{ eventId: forged.eventId, type: 'CheckpointSigned', data: codec.encode('CheckpointSigned', forged), metadata: { [ORIGIN_METADATA_KEY]: ORIGIN } }]);
    const ids = await appendDisclosures(log.store, 500, 4);
    const checkpointer = createCheckpointer({ store: log.store, codec, signer: written.key, origin: ORIGIN, everyEvents: 1000, everyMs: 60_000 });
    await checkpointer.start();
    await waitFor(() => checkpointer.treeSize === 74);
    expect(await checkpointer.checkpointNow()).toBe(74);
    await checkpointer.stop();
    await waitFor(() => service.latestCheckpoint()?.treeSize === 74);
    const proof = await get(`/v1/log/proof/inclusion?eventId=${ids[3]}`);
    expect(proof).toMatchObject({ status: 200, body: { leafIndex: 73, treeSize: 74 } });
  });
});

describe('POST /v1/log/subject-map/proofs (the subject map, over the route and the HTTP client)', () => {
  it('proves map indexes at the newest checked commitment; refuses bad indexes; 404 without a map', async () => {
    const { randomBytes } = await import('node:crypto');
    const { subjectMapKeys, decodeMapProof, verifyMapProof } = await import('@sporbar/auditor/map');
    const { createLogClient } = await import('../src/client.ts');
    const mapLog = await pgliteTestLog(db);
    const key = generateSigningKey();
    const keys = subjectMapKeys(randomBytes(32));
    const checkpointer = createCheckpointer({ store: mapLog.store, codec, signer: key, origin: ORIGIN, everyEvents: 1000, everyMs: 60_000, subjectMap: { keys, everyEvents: 1000 } });
    await checkpointer.start();
    const mapService = createLogService({ store: mapLog.store, codec, publicKey: key.publicKey, origin: ORIGIN, subjectMap: { keys } });
    await mapService.start();
    const server = Fastify();
    await server.register(logRoutes, { log: mapService });
    const plain = Fastify();
    await plain.register(logRoutes, { log: service });
    try {
      const post = (a: FastifyInstance, body: unknown) => a.inject({ method: 'POST', url: '/v1/log/subject-map/proofs', payload: body as object });
      const index = keys.indexOf(`psn_k1_${'0'.padStart(43, 'a')}`).toString('hex'); // the pseudonym of disclosure(0)
      expect((await post(server, { indexes: [index] })).statusCode).toBe(404); // no commitment yet
      await appendDisclosures(mapLog.store, 0, 7);
      await waitFor(() => checkpointer.treeSize === 7);
      const size = await checkpointer.commitMapNow();
      expect(size).toBe(7);
      await waitFor(() => mapService.treeSize > 8);
      const ok = await post(server, { indexes: [index] });
      expect(ok.statusCode).toBe(200);
      const body = ok.json() as { commitment: { treeSize: number; rootHash: string; leafIndex: number; event: string }; proofs: Array<{ index: string; proof: string }> };
      expect(body.commitment).toMatchObject({ treeSize: 7, leafIndex: 7 });
      expect(verifyMapProof(b(body.commitment.rootHash), Buffer.from(index, 'hex'), decodeMapProof(b(body.proofs[0]!.proof)))?.count).toBe(1);
      expect((await post(server, { indexes: ['ABC'] })).statusCode).toBe(400);
      expect((await post(server, { indexes: Array.from({ length: 17 }, () => index) })).statusCode).toBe(400);
      expect((await post(plain, { indexes: [index] })).statusCode).toBe(404); // a log without a map
      // The access API's client of the log service gets the same answer.
      const address = await server.listen({ host: '127.0.0.1', port: 0 });
      expect(await createLogClient({ url: address }).subjectMapProofs([index])).toEqual(body);
    } finally {
      await server.close();
      await plain.close();
      await checkpointer.stop();
      await mapService.stop();
      await mapLog.close();
    }
  });
});
