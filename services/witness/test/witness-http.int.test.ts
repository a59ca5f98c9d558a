import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { submitToWitness } from '../src/client.ts';
import { createCosigner, verifyCosignature, parseNote, parseSignatureLine, parseVkey } from '@sporbar/auditor/note';
import { parseLogsFile } from '../src/logs.ts';
import { buildWitnessServer } from '../src/server.ts';
import { openPostgresStore, type CheckpointStore } from '../src/store.ts';
import { createWitness, originHash } from '../src/witness.ts';
import { createTestDatabase, dropTestDatabase, probePostgres, sql } from '../../event-store/test/support/postgres.ts';
import { createTestLog } from './support/test-log.ts';
import { bodyOf, post, witnessFiles } from './support/witness.ts';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';

/**
 * The witness over real HTTP (one in-process server, its state in a fresh PostgreSQL database): every
 * answer of c2sp.org/tlog-witness add-checkpoint, the client's typed errors, the monitoring endpoint,
 * the evidence it keeps, /ready and /metrics.
 */
const probe = await probePostgres();
const log = createTestLog('sporbar.test/http-log');
const stranger = createTestLog('sporbar.test/not-witnessed');
const edge = createTestLog('sporbar.test/edge-cases');
let db: { name: string; url: string } | undefined;
let store: CheckpointStore;
let app: FastifyInstance;
let url: string;
const cosigner = createCosigner('witness.test/http', generateKeyPairSync('ed25519').privateKey);

const error = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (isSporbarError(err)) return err;
    throw err;
  }
  throw new Error('expected a SporbarError');
};

describe.skipIf(probe.skip)('witness over HTTP (PostgreSQL state)', () => {
  beforeAll(async () => {
    db = await createTestDatabase(probe.url!);
    store = await openPostgresStore(db.url, 'witness');
    const files = witnessFiles([log, edge]);
    const witness = createWitness({ cosigner, logs: parseLogsFile(readFileSync(files.logsFile, 'utf8')), store });
    app = buildWitnessServer({ witness, store });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close().catch(() => undefined); // the last test closed it already
    if (db) await dropTestDatabase(probe.url!, db.name);
  });

  it('serves its cosigner vkey at /', async () => {
    const res = await fetch(`${url}/`);
    expect(await res.text()).toBe(`${cosigner.vkey}\n`);
    expect(parseVkey(cosigner.vkey).type).toBe(0x04);
  });

  it('cosigns the first checkpoint from old 0 and the next ones with consistency proofs (the client verifies each)', async () => {
    log.append(5);
    const first = await submitToWitness(url, { oldSize: 0, proof: [], checkpoint: log.checkpoint() }, { witnessKey: cosigner.vkey });
    expect(first).toHaveLength(1);
    // The spec names no request Content-Type: none at all is read as well.
    expect((await post(url, bodyOf(log, 5), null)).status).toBe(200);
    for (const grow of [1, 3, 17, 2]) {
      const from = log.size();
      log.append(grow);
      const lines = await submitToWitness(`${url}/`, { oldSize: from, proof: log.proof(from), checkpoint: log.checkpoint() }, { witnessKey: cosigner.vkey });
      const check = verifyCosignature(parseVkey(cosigner.vkey), parseNote(log.checkpoint()).text, parseSignatureLine(lines[0]!));
      expect(check.ok).toBe(true);
    }
    expect(log.size()).toBe(28);
  });

  it('serves the last cosigned checkpoint with the log’s signature and its own at /<sha256(origin)>/checkpoint', async () => {
    const res = await fetch(`${url}/${originHash(log.origin)}/checkpoint`);
    expect(res.status).toBe(200);
    const note = parseNote(await res.text());
    expect(note.text).toBe(parseNote(log.checkpoint()).text);
    expect(note.signatures.map((s) => s.name)).toEqual([log.origin, cosigner.name]);
    expect((await fetch(`${url}/${originHash(stranger.origin)}/checkpoint`)).status).toBe(404);
    expect((await fetch(`${url}/not-a-hash/checkpoint`)).status).toBe(404);
  });

  it('answers 409 with its size as text/x.tlog.size when the old size is not the one it cosigned; the client says so', async () => {
    const res = await post(url, bodyOf(log, 5));
    expect(res).toEqual({ status: 409, type: 'text/x.tlog.size', text: '28\n' });
    const err = await error(submitToWitness(url, { oldSize: 0, proof: [], checkpoint: log.checkpoint() }));
    expect(err.code).toBe('SPB_ERR_WITNESS_CONFLICT');
    expect(err.details['witnessSize']).toBe(28);
  });

  it('answers 422 to a fork (another root for size 28, or history rewritten and re-signed) and keeps it as evidence', async () => {
    const fork = log.fork(20);
    const sameSize = await post(url, `old 28\n\n${fork.checkpoint(28)}`);
    expect(sameSize.status).toBe(422);
    expect(sameSize.text).toMatch(/^SPB_ERR_WITNESS_INCONSISTENT: .*forked/);
    const rewritten = await error(submitToWitness(url, { oldSize: 28, proof: fork.proof(28), checkpoint: fork.checkpoint() }));
    expect(rewritten.code).toBe('SPB_ERR_WITNESS_INCONSISTENT');
    const evidence = await sql<{ old_size: string; note: Buffer }>(db!.url, 'SELECT old_size, note FROM witness.witness_evidence ORDER BY id');
    expect(evidence.map((e) => [Number(e.old_size), e.note.toString()])).toEqual([
      [28, fork.checkpoint(28)],
      [28, fork.checkpoint()],
    ]);
    // Its state did not move.
    expect(await post(url, bodyOf(log, 0))).toMatchObject({ status: 409, text: '28\n' });
  });

  it('answers 422 to a proof from old size 0, a proof between equal sizes, and a size-0 checkpoint whose root is not the empty tree’s', async () => {
    edge.append(6);
    const res = await post(url, `old 0\n${edge.proof(3)[0]!.toString('base64')}\n\n${edge.checkpoint()}`);
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/from old size 0 the consistency proof must be empty/);
    expect((await post(url, `old 0\n\n${edge.sign(`${edge.origin}\n0\n${edge.root(1).toString('base64')}\n`)}`)).status).toBe(422);
    expect((await post(url, `old 0\n\n${edge.sign(`${edge.origin}\n0\n${edge.root(0).toString('base64')}\n`)}`)).status).toBe(200);
    expect((await post(url, `old 28\n${log.proof(27, 28)[0]!.toString('base64')}\n\n${log.checkpoint(28)}`)).status).toBe(422);
  });

  it('cosigns extension lines as part of the note text', async () => {
    const lines = await submitToWitness(url, { oldSize: 0, proof: [], checkpoint: edge.checkpoint(6, ['x-sporbar-extension 1']) }, { witnessKey: cosigner.vkey });
    const text = `${edge.origin}\n6\n${edge.root(6).toString('base64')}\nx-sporbar-extension 1\n`;
    expect(verifyCosignature(parseVkey(cosigner.vkey), text, parseSignatureLine(lines[0]!)).ok).toBe(true);
  });

  it('client: an unreachable witness and an answer without the expected cosigner are SPB_ERR_WITNESS_UNAVAILABLE (retriable)', async () => {
    const closed = Fastify();
    const gone = await closed.listen({ host: '127.0.0.1', port: 0 });
    await closed.close();
    const down = await error(submitToWitness(gone, { oldSize: 0, proof: [], checkpoint: log.checkpoint() }, { timeoutMs: 2000 }));
    expect(down).toMatchObject({ code: 'SPB_ERR_WITNESS_UNAVAILABLE', retriable: true });
    // A real 200 checked against another witness's vkey: its line is ignored, so no cosignature by the expected one.
    const otherKey = createCosigner('witness.test/other', generateKeyPairSync('ed25519').privateKey).vkey;
    const wrong = await error(submitToWitness(url, { oldSize: log.size(), proof: [], checkpoint: log.checkpoint() }, { witnessKey: otherKey }));
    expect(wrong.code).toBe('SPB_ERR_WITNESS_UNAVAILABLE');
    expect(wrong.message).toMatch(/no cosignature by witness.test\/other/);
  });

  it('answers 404 to a log it does not witness', async () => {
    stranger.append(2);
    expect((await post(url, bodyOf(stranger, 0))).status).toBe(404);
    expect((await error(submitToWitness(url, { oldSize: 0, proof: [], checkpoint: stranger.checkpoint() }))).code).toBe('SPB_ERR_WITNESS_UNKNOWN_LOG');
  });

  it('answers 403 when no trusted key signed, or a trusted key’s signature fails', async () => {
    const impostor = createTestLog(log.origin); // same origin, another key
    impostor.append(40);
    expect((await post(url, bodyOf(impostor, 0))).status).toBe(403);
    const good = log.checkpoint();
    const sigAt = good.lastIndexOf(' ') + 10;
    const tampered = `${good.slice(0, sigAt)}${good[sigAt] === 'A' ? 'B' : 'A'}${good.slice(sigAt + 1)}`;
    const res = await post(url, `old 28\n\n${tampered}`);
    expect(res.status).toBe(403);
    expect((await error(submitToWitness(url, { oldSize: 28, proof: [], checkpoint: tampered }))).code).toBe('SPB_ERR_WITNESS_BAD_SIGNATURE');
  });

  it('answers 400 to garbage, whatever its content type', async () => {
    for (const [body, type] of [
      ['garbage', 'text/plain'],
      ['{"old": 28}', 'application/json'],
      [Buffer.from([0xff, 0xfe, 0x0a, 0x0a]), 'application/octet-stream'],
      [`old 28\n\n${log.origin}\nnot a checkpoint\n`, 'text/plain'],
      [`old 29\n\n${log.checkpoint()}`, 'text/plain'],
      [`old 28\n\n${log.sign(`${log.origin}\n0${log.size()}\n${log.root().toString('base64')}\n`)}`, 'text/plain'],
      [`old 28\n\n${log.sign(`${log.origin}\n${log.size()}\n${log.root().toString('base64')}\n\nx\n`)}`, 'text/plain'],
    ] as const) {
      expect((await post(url, body, type)).status, String(body).slice(0, 30)).toBe(400);
    }
    expect((await post(url, Buffer.alloc(200 * 1024, 0x41))).status).toBe(413);
  });

  it('of concurrent submissions from the same old size, cosigns exactly one', async () => {
    const from = log.size();
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8].map((k) => from + k);
    log.append(8);
    const results = await Promise.all(sizes.map((n) => post(url, `old ${from}\n${log.proof(from, n).map((h) => `${h.toString('base64')}\n`).join('')}\n${log.checkpoint(n)}`)));
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    const stored = await store.get(log.origin);
    expect(won[0]!.text.startsWith(`— ${cosigner.name} `)).toBe(true);
    expect(sizes).toContain(stored!.size);
  });

  it('is ready while its database answers, and counts requests by origin and status in /metrics', async () => {
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`sporbar_witness_add_checkpoint_total\\{origin="${log.origin}",status="200"\\} [1-9]`));
    expect(metrics).toMatch(/sporbar_witness_add_checkpoint_total\{origin="",status="404"\} [1-9]/);
    expect(metrics).toMatch(new RegExp(`sporbar_witness_inconsistent_total\\{origin="${log.origin}"\\} [1-9]`));
    expect(metrics).not.toContain(stranger.origin);
  });

  it('is not ready once its database is gone, and refuses to cosign (500) rather than answer without storing', async () => {
    await store.close();
    expect(await (await fetch(`${url}/ready`)).json()).toEqual({ status: 'unavailable', code: 'SPB_ERR_STORE_UNAVAILABLE' });
    const from = log.size();
    log.append(1);
    const res = await post(url, bodyOf(log, from));
    expect(res.status).toBe(500);
    expect(res.text).not.toMatch(/\u2014/);
  });
});
