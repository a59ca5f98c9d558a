import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { goPrerequisites, tlogCheck } from '@sporbar/tlog-interop';
import { createCosigner, verifyCosignature, parseNote, parseVkey } from '@sporbar/auditor/note';
import { parseLogsFile } from '../src/logs.ts';
import { buildWitnessServer } from '../src/server.ts';
import { openPostgresStore, type CheckpointStore } from '../src/store.ts';
import { createWitness, originHash } from '../src/witness.ts';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { createTestLog } from './support/test-log.ts';
import { bodyOf, post } from './support/witness.ts';

/**
 * The witness against an implementation nobody here wrote: the Go checksum database's note.Open and
 * tlog.CheckTree (Debian's golang.org/x/mod, through @sporbar/tlog-interop's tlogcheck). What the Go code
 * accepts as a consistent, validly signed checkpoint the witness cosigns; what it refuses (a fork's
 * proof) the witness refuses too; and the note the witness serves, with its cosignature added, is a
 * signed note that note.Open opens with the log's key.
 */
const prereq = goPrerequisites();
if (!prereq.ok && process.env.CI === 'true') throw new Error(`CI=true: the Go verifier needs ${prereq.missing.join(', ')}`);
const probe = await probePostgres();
const log = createTestLog('sporbar.test/go-interop');
const cosigner = createCosigner('witness.test/go-interop', generateKeyPairSync('ed25519').privateKey);
let db: { name: string; url: string } | undefined;
let store: CheckpointStore;
let app: FastifyInstance;
let url: string;

describe.skipIf(probe.skip || !prereq.ok)('the witness and Go’s sumdb/note and sumdb/tlog agree', () => {
  beforeAll(async () => {
    db = await createTestDatabase(probe.url!);
    store = await openPostgresStore(db.url, 'witness');
    const witness = createWitness({ cosigner, logs: parseLogsFile(JSON.stringify({ logs: [{ origin: log.origin, keys: [log.vkey] }] })), store });
    app = buildWitnessServer({ witness, store });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    if (db) await dropTestDatabase(probe.url!, db.name);
  });

  it('cosigns each step Go verifies, and serves a note Go opens with the log’s key (the cosignature line well-formed, ignored as unknown)', async () => {
    let from = 0;
    for (const grow of [1, 6, 9, 16, 3]) {
      const oldRoot = log.root(from);
      log.append(grow);
      const go = tlogCheck({
        verifierKey: log.vkey,
        checkpoint: log.checkpoint(),
        ...(from > 0 ? { consistency: { oldSize: from, oldRoot: oldRoot.toString('base64'), proof: log.proof(from).map((h) => h.toString('base64')) } } : {}),
      });
      expect(go, JSON.stringify(go)).toMatchObject({ ok: true, exitCode: 0, size: log.size() });
      expect((await post(url, bodyOf(log, from))).status).toBe(200);
      from = log.size();
    }
    const served = await (await fetch(`${url}/${originHash(log.origin)}/checkpoint`)).text();
    const go = tlogCheck({ verifierKey: log.vkey, checkpoint: served });
    expect(go).toMatchObject({ ok: true, origin: log.origin, size: 35, root: log.root().toString('base64'), signers: [log.vkey.split('+').slice(0, 2).join('+')] });
    const note = parseNote(served);
    expect(verifyCosignature(parseVkey(cosigner.vkey), note.text, note.signatures.at(-1)!)).toMatchObject({ ok: true });
  });

  it('refuses the fork that Go’s tlog.CheckTree refuses', async () => {
    const fork = log.fork(20);
    fork.append(4);
    const proof = fork.proof(35);
    const go = tlogCheck({ verifierKey: log.vkey, checkpoint: fork.checkpoint(), consistency: { oldSize: 35, oldRoot: log.root().toString('base64'), proof: proof.map((h) => h.toString('base64')) } });
    expect(go.ok).toBe(false);
    expect(go.consistency).not.toBe('ok');
    expect((await post(url, bodyOf(fork, 35))).status).toBe(422);
  });
});
