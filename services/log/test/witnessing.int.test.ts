import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVerifyingKey, verifierKeyString, verifyInclusion } from '@sporbar/auditor';
import { checkCheckpointPolicy, createCosigner, formatPolicy, parseNote, parsePolicy, parseCheckpointText } from '@sporbar/auditor/note';
import type { EventStore } from '@sporbar/event-store';
import { runCli } from '../../auditor/src/cli.ts';
import { originHash } from '../../witness/src/witness.ts';
import { startWitness, witnessFiles, type WitnessProcess } from '../../witness/test/support/witness.ts';
import type { TestLog } from '../../witness/test/support/test-log.ts';
import { ME, bearer, row, testApp } from '../../access-api/test/helpers.ts';
import { devToken } from '../../access-api/src/index.ts';
import { logServiceConfigFromEnv } from '../src/config.ts';
import { openCosignatureStore } from '../src/cosignatures.ts';
import { createLogClient } from '../src/client.ts';
import { startLogServer, type LogServer } from '../src/log-server.ts';
import { createWitnessPublisher } from '../src/witnessing.ts';
import { ORIGIN, checkpointKeyFiles, createTestDatabase, disclosure, dropTestDatabase, getJson, metricsOf, openStore, probePostgres, toAppend, waitFor } from './support.ts';
import { sql } from '../../event-store/test/support/postgres.ts';

/**
 * Witnessing end to end: the log service (`startLogServer`, a real PostgreSQL store) with two real
 * `sporbar-witness` processes in its policy (quorum: both). Growth is cosigned by both and published
 * with `witnessed.met`; a witness down delays the publication (never the signing), raises one alert
 * and shows in the metrics, and catches up when it is back; a forked log — a second store whose
 * history was rewritten, signed with the same origin and key, first at the very size the witnesses
 * cosigned (another root), then grown (a consistency proof that cannot verify) — is refused by both
 * witnesses (422, their state unchanged), raises the alert, and is reported by `sporbar-audit verify
 * --policy` (FORK, exit 1) and by the citizen report (not ok, with the reason).
 */
const probe = await probePostgres();
const A = 'datatilsynet.test/witness';
const B = 'rigsrevisionen.test/witness';
const REPORT_IDS = [row('s', 1).event_id, row('s', 2).event_id];

type Published = { treeSize: number; rootHash: string; checkpoint: string; witnessed?: { quorum: string; met: boolean; witnesses: Array<{ name: string; status: string }> } };
type Health = { published: { treeSize: number; met: boolean } | null; latest: { treeSize: number; met: boolean; waitingSeconds: number } | null; witnesses: Array<{ name: string; status: string; cosignedSize?: number; since?: string }> };

describe.skipIf(!probe.url)('witnessing with two witness processes', () => {
  const dbs: string[] = [];
  const stores: EventStore[] = [];
  const servers: LogServer[] = [];
  const witnesses = new Map<string, { proc: WitnessProcess; env: Record<string, string>; vkey: string }>();
  const key = checkpointKeyFiles();
  const logVkey = verifierKeyString(ORIGIN, loadVerifyingKey(key.publicKeyPem).publicKeyRaw);
  const policyFile = join(key.dir, 'policy.txt');
  let policyText: string;
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  const alerts = (pattern: RegExp) => logs.filter((l) => typeof l['msg'] === 'string' && pattern.test(l['msg'] as string));

  let honest: { url: string; store: EventStore; server: LogServer };
  let next = 0;
  const append = async (store: EventStore, count: number, ids: readonly string[] = []) => {
    for (let i = 0; i < count; i++) {
      const d = i < ids.length ? { ...disclosure(next++), eventId: ids[i]! } : disclosure(next++);
      await store.append(`subject-${d.subject.value}`, [toAppend(d)]);
    }
  };
  const startLog = async (databaseUrl: string, extra: Record<string, string> = {}) => {
    const config = logServiceConfigFromEnv({
      SPORBAR_STORE: 'postgres',
      DATABASE_URL: databaseUrl,
      SPORBAR_LOG_ORIGIN: ORIGIN,
      SPORBAR_CHECKPOINT_KEY_FILE: key.keyFile,
      SPORBAR_CHECKPOINT_INTERVAL_SECONDS: '1',
      SPORBAR_LEADER_RETRY_SECONDS: '1',
      SPORBAR_WITNESS_POLICY_FILE: policyFile,
      SPORBAR_SUBJECT_MAP_KEY: Buffer.alloc(32, 7).toString('base64url'),
      SPORBAR_WITNESS_RETRY_MAX_SECONDS: '1',
      SPORBAR_WITNESS_TIMEOUT_SECONDS: '2',
      PORT: '0',
      ...extra,
    });
    const server = await startLogServer(config, logger);
    servers.push(server);
    return server;
  };
  const published = async (server: LogServer) => (await getJson<Published>(`${server.address}/v1/log/checkpoint`)).body;
  const health = async (server: LogServer) => (await getJson<Health>(`${server.address}/health/witnesses`)).body;
  const witnessCheckpoint = async (name: string) => (await fetch(`${witnesses.get(name)!.proc.url}/${originHash(ORIGIN)}/checkpoint`)).text();
  const witnessSize = async (name: string) => parseCheckpointText(parseNote(await witnessCheckpoint(name)).text).size;
  const audit = async (databaseUrl: string) => {
    let out = '';
    const code = await runCli(['--store', 'postgres', '--database-url', databaseUrl, '--public-key', key.publicKeyFile, '-q', 'verify', '--policy', policyFile, '--tail-grace', '1h'], { out: (t) => (out += t), err: process.stderr });
    return { code, out };
  };
  const fresh = async () => {
    const db = await createTestDatabase(probe.url!);
    dbs.push(db.name);
    const store = await openStore(db.url);
    stores.push(store);
    return { url: db.url, store };
  };

  beforeAll(async () => {
    const wdb = await createTestDatabase(probe.url!);
    dbs.push(wdb.name);
    const files = witnessFiles([{ origin: ORIGIN, vkey: logVkey } as TestLog]);
    for (const [name, schema] of [
      [A, 'witness_a'],
      [B, 'witness_b'],
    ] as const) {
      const own = witnessFiles([{ origin: ORIGIN, vkey: logVkey } as TestLog]);
      const env = { SPORBAR_WITNESS_NAME: name, SPORBAR_WITNESS_KEY_FILE: own.keyFile, SPORBAR_WITNESS_LOGS: files.logsFile, DATABASE_URL: wdb.url, SPORBAR_WITNESS_SCHEMA: schema };
      witnesses.set(name, { proc: await startWitness(env), env, vkey: createCosigner(name, own.keyPem).vkey });
    }
    policyText = formatPolicy({ logs: [{ vkey: logVkey }], witnesses: [A, B].map((name) => ({ name, vkey: witnesses.get(name)!.vkey, url: witnesses.get(name)!.proc.url })) });
    writeFileSync(policyFile, policyText);
    const h = await fresh();
    await append(h.store, 5, REPORT_IDS);
    honest = { ...h, server: await startLog(h.url) };
  }, 30_000);

  afterAll(async () => {
    for (const s of servers) await s.close().catch(() => undefined);
    await Promise.all([...witnesses.values()].map((w) => w.proc.stop()));
    for (const s of stores) await s.close();
    for (const name of dbs) await dropTestDatabase(probe.url!, name);
    if (process.env['DEBUG_LOG']) console.log(logs.map((l) => JSON.stringify(l)).join('\n'));
  });

  it('cosigns the growing log with both witnesses and publishes it with witnessed.met; the report checks it itself', async () => {
    const policy = parsePolicy(policyText);
    for (const grow of [0, 7]) {
      await append(honest.store, grow);
      const want = Number(await honest.store.headPosition());
      const cp = await waitFor(async () => {
        const p = await published(honest.server);
        return p.treeSize >= want && p.witnessed?.met ? p : undefined;
      }, 20_000, `a cosigned checkpoint of ${want} leaves`);
      expect(cp.witnessed).toMatchObject({ quorum: '2 of 2 of witnesses (datatilsynet.test/witness, rigsrevisionen.test/witness)', met: true });
      expect(cp.witnessed!.witnesses.map((w) => w.status)).toEqual(['cosigned', 'cosigned']);
      // The note is a C2SP cosigned checkpoint: the log's signature, then both cosignatures, which verify independently of the service's verdict.
      const check = checkCheckpointPolicy(cp.checkpoint, policy, { origin: ORIGIN });
      expect(check.ok).toBe(true);
      expect(parseNote(cp.checkpoint).signatures.map((s) => s.name)).toEqual([ORIGIN, A, B]);
      for (const w of [A, B]) expect(await witnessSize(w)).toBe(cp.treeSize);
    }
    // Inclusion proofs without a tree size are against the published checkpoint.
    const cp = await published(honest.server);
    const proofs = (await getJson<{ treeSize: number; checkpoint: Published; proofs: Array<{ leafIndex: number; treeSize: number; leafHash: string; proof: string[] }> }>(`${honest.server.address}/v1/log/proof/inclusions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ eventIds: REPORT_IDS }),
    })).body;
    expect(proofs.treeSize).toBe(proofs.checkpoint.treeSize);
    expect(proofs.checkpoint.witnessed?.met).toBe(true);
    for (const p of proofs.proofs) expect(verifyInclusion(p.leafIndex, p.treeSize, Buffer.from(p.leafHash, 'base64'), p.proof.map((h) => Buffer.from(h, 'base64')), Buffer.from(proofs.checkpoint.rootHash, 'base64'))).toBe(true);
    expect(honest.server.publishedCheckpoint()?.treeSize).toBeGreaterThanOrEqual(cp.treeSize);
    // A standby instance (same database: the lock is taken) publishes the same cosigned checkpoint from the table.
    const standby = await startLog(honest.url);
    const same = await waitFor(async () => {
      const p = await published(standby);
      return p.treeSize === cp.treeSize && p.witnessed?.met ? p : undefined;
    }, 10_000, 'the standby publishing the cosigned checkpoint');
    expect(same.checkpoint).toBe(cp.checkpoint);
    expect(await health(standby)).toMatchObject({ signer: false, published: { treeSize: cp.treeSize, met: true }, witnesses: [] });
    await standby.close();
    // The citizen report judges the checkpoint with the API's own policy: ok, both cosigned.
    const { app } = await testApp(async () => undefined, { log: createLogClient({ url: honest.server.address }), witnessPolicy: policyText });
    const r = await app.inject({ method: 'GET', url: '/v1/me/report', headers: bearer(devToken({ role: 'citizen', sub: 'citizen-1', cpr: ME })) });
    const integrity = (r.json() as { integrity: { status: string; witnessed: { met: boolean; witnesses: Array<{ name: string; status: string }> }; inclusionProofs: unknown[] } }).integrity;
    expect(integrity).toMatchObject({ status: 'ok', witnessed: { met: true, witnesses: [{ name: A, status: 'cosigned' }, { name: B, status: 'cosigned' }] } });
    expect(integrity.inclusionProofs).toHaveLength(2);
    await app.close();
  }, 40_000);

  it('a witness down: checkpoints are still signed, the publication waits (quorum 2; met with quorum 1), one alert, the metrics say so; it catches up when back', async () => {
    const b = witnesses.get(B)!;
    const before = await published(honest.server);
    await b.proc.stop();
    await append(honest.store, 4);
    const h = await waitFor(async () => {
      const x = await health(honest.server);
      return x.latest && x.latest.treeSize > before.treeSize && x.witnesses.find((w) => w.name === B)?.status === 'unavailable' ? x : undefined;
    }, 20_000, 'a newer checkpoint waiting for witness B');
    expect(h.latest!.met).toBe(false);
    expect(h.published).toEqual({ treeSize: before.treeSize, met: true });
    expect((await published(honest.server)).treeSize).toBe(before.treeSize);
    // Signing goes on: more events, another checkpoint, all while B is down.
    await append(honest.store, 3);
    const head = Number(await honest.store.headPosition());
    await waitFor(async () => ((await health(honest.server)).latest?.treeSize ?? 0) >= head, 20_000, 'a checkpoint of every event while B is down');
    // With quorum 1 (either witness) the same cosignatures meet the policy at the newest checkpoint.
    const cosigs = await openCosignatureStore(honest.url);
    const one = createWitnessPublisher({ policy: parsePolicy(formatPolicy({ logs: [{ vkey: logVkey }], witnesses: [A, B].map((name) => ({ name, vkey: witnesses.get(name)!.vkey })), quorum: 1 })), origin: ORIGIN, store: cosigs, log: honest.server.log, logger });
    await one.start();
    await waitFor(async () => {
      await one.refresh();
      return one.published()?.treeSize === honest.server.log.latestCheckpoint()?.treeSize || undefined;
    }, 10_000, 'quorum 1 met by witness A alone');
    expect(one.published()!.witnessed).toMatchObject({ met: true, witnesses: [{ name: A, status: 'cosigned' }, { name: B, status: 'absent' }] });
    await one.stop();
    // A long outage: witness A's rows crowd the 64 largest sizes (here rows of sizes this log never signed,
    // which count for nothing); the publication still finds where the quorum last met, at B's largest size.
    const held = (await published(honest.server)).treeSize;
    for (let i = 0; i < 70; i++) await cosigs.put(ORIGIN, { treeSize: 1_000_000 + i, rootHash: Buffer.alloc(32, 7), witness: A, lines: [`\u2014 ${A} AAAAAAAAAAAA`] });
    await waitFor(async () => {
      await new Promise((r) => setTimeout(r, 1100)); // the publisher's next refresh
      return true;
    });
    expect(await published(honest.server)).toMatchObject({ treeSize: held, witnessed: { met: true } });
    await sql(honest.url, 'DELETE FROM sporbar_log.witness_cosignatures WHERE tree_size >= 1000000');
    await cosigs.close();
    await new Promise((r) => setTimeout(r, 1500)); // several retries at the 1 s backoff
    expect(alerts(/^alert: witness rigsrevisionen\.test\/witness unavailable since /)).toHaveLength(1);
    const m = await metricsOf(honest.server.address);
    expect(m).toMatch(/^sporbar_log_witness_up\{witness="rigsrevisionen.test\/witness"\} 0$/m);
    expect(m).toMatch(/^sporbar_log_witness_up\{witness="datatilsynet.test\/witness"\} 1$/m);
    expect(Number(/^sporbar_log_unwitnessed_seconds (\S+)$/m.exec(m)![1])).toBeGreaterThan(0);
    expect(Number(/^sporbar_log_witness_submissions_total\{witness="rigsrevisionen.test\/witness",result="unavailable"\} (\S+)$/m.exec(m)![1])).toBeGreaterThanOrEqual(2);
    // verify --policy fails closed: the witness that cannot be asked counts for nothing, quorum 2 is not met.
    const v = await audit(honest.url);
    expect(v.code).toBe(1);
    expect(v.out).toContain(`witness ${A}: matches at tree size`);
    expect(v.out).toContain(`witness ${B}: unreachable`);
    expect(v.out).toContain(`[unwitnessed] the witness quorum (2 of 2 of witnesses (${A}, ${B})) does not confirm this log: only ${A} cosigned a checkpoint that matches it`);
    // Back on the same address: it catches up with the newest checkpoint (a consistency proof from the size it had).
    b.proc = await startWitness({ ...b.env, PORT: new URL(b.proc.url).port });
    const latest = honest.server.log.latestCheckpoint()!.treeSize;
    const caught = await waitFor(async () => {
      const p = await published(honest.server);
      return p.treeSize >= latest && p.witnessed?.met ? p : undefined;
    }, 20_000, 'B catching up');
    expect(await witnessSize(B)).toBe(caught.treeSize);
    expect((await metricsOf(honest.server.address))).toMatch(/^sporbar_log_unwitnessed_seconds 0$/m);
    expect(logs.some((l) => l['msg'] === `witness ${B} cosigns again`)).toBe(true);
  }, 60_000);

  it('a forked log (same origin and key, history rewritten and re-signed) is refused by both witnesses, raises the alert, and is reported by verify --policy and by the report', async () => {
    // The honest log is settled: everything covered, both witnesses at its latest checkpoint.
    await waitFor(async () => honest.server.log.uncovered === 0 && (await published(honest.server)).treeSize === honest.server.log.latestCheckpoint()?.treeSize && (await published(honest.server)).witnessed?.met, 20_000, 'the honest log settled');
    const honestCp = await published(honest.server);
    const size = honestCp.treeSize;
    expect(await Promise.all([A, B].map(witnessSize))).toEqual([size, size]);
    const seen = await Promise.all([A, B].map(witnessCheckpoint));

    // The fork: the honest disclosures with the first one replaced, padded to exactly the size the witnesses cosigned.
    const f = await fresh();
    const copied: Array<{ stream: string; data: Uint8Array; eventId: string }> = [];
    for await (const e of honest.store.readAll()) if (e.type !== 'CheckpointSigned') copied.push({ stream: e.streamName, data: e.data, eventId: e.eventId });
    let leaves = 0;
    for (const [i, e] of copied.entries()) {
      if (leaves >= size) break;
      if (i === 0) await append(f.store, 1);
      else await f.store.append(e.stream, [{ eventId: e.eventId, type: 'DisclosureRecorded', data: e.data, metadata: {} }]);
      leaves++;
    }
    if (leaves < size) await append(f.store, size - leaves);
    expect(Number(await f.store.headPosition())).toBe(size);
    const forked = await startLog(f.url, { SPORBAR_CHECKPOINT_EVERY_EVENTS: '100000' });

    // (a) a different root for the size both witnesses cosigned: 422 from both.
    await waitFor(() => alerts(/refused the checkpoint of tree size \d+ as inconsistent/).filter((l) => l['treeSize'] === size).length >= 2 || undefined, 20_000, 'both witnesses refusing the forked root');
    // (b) the fork grows: no consistency proof from what the witnesses saw can verify.
    await append(f.store, 3);
    await waitFor(() => alerts(/refused the checkpoint of tree size \d+ as inconsistent/).filter((l) => (l['treeSize'] as number) > size).length >= 2 || undefined, 20_000, 'both witnesses refusing the grown fork');
    expect(alerts(/^alert: witness .* refused the checkpoint of tree size \d+ as inconsistent with what it cosigned before: this log has forked or its history was rewritten$/).length).toBeGreaterThanOrEqual(4);
    // Their state is unchanged: still the honest checkpoint.
    expect(await Promise.all([A, B].map(witnessCheckpoint))).toEqual(seen);
    const fm = await metricsOf(forked.address);
    for (const w of [A, B]) {
      expect(fm).toMatch(new RegExp(`^sporbar_log_witness_submissions_total\\{witness="${w.replaceAll('.', '\\.')}",result="inconsistent"\\} [2-9]`, 'm'));
      expect(fm).toMatch(new RegExp(`^sporbar_log_witness_refusing\\{witness="${w.replaceAll('.', '\\.')}"\\} 1$`, 'm'));
    }
    const forkCp = await published(forked);
    expect(forkCp.witnessed).toMatchObject({ met: false, witnesses: [{ status: 'absent' }, { status: 'absent' }] });

    // verify --policy: the honest store matches both witnesses; the forked one is a FORK (exit 1).
    const good = await audit(honest.url);
    expect(good.out).toMatch(/^OK/);
    expect(good.out).toContain(`witness ${A}: matches at tree size ${size}`);
    expect(good.code).toBe(0);
    const bad = await audit(f.url);
    if (process.env['DEBUG_LOG']) console.log(bad.out);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^FAILED/);
    for (const w of [A, B]) expect(bad.out).toContain(`[fork] FORK: witness ${w} cosigned tree size ${size} with root ${honestCp.rootHash}`);
    expect(bad.out).toContain('[unwitnessed]');
    // A log shorter than what the witnesses cosigned (truncated, or rolled back to an old copy): [truncated].
    const short = await fresh();
    await append(short.store, 3);
    const rolled = await audit(short.url);
    expect(rolled.code).toBe(1);
    for (const w of [A, B]) expect(rolled.out).toContain(`[truncated] witness ${w} cosigned tree size ${size} (root ${honestCp.rootHash})`);
    expect(rolled.out).toContain(`but the log has only 3 leaves: the log was truncated or rolled back after the witness saw it`);

    // The citizen report over the forked log: not ok, and says why.
    const token = devToken({ role: 'citizen', sub: 'citizen-1', cpr: ME });
    const { app } = await testApp(async () => undefined, { log: createLogClient({ url: forked.address }), witnessPolicy: policyText });
    const report = async () => (await app.inject({ method: 'GET', url: '/v1/me/report', headers: bearer(token) })).json() as { integrity: { status: string; reason?: string; witnessed?: { met: boolean } } };
    expect((await report()).integrity).toMatchObject({ status: 'unwitnessed', reason: expect.stringContaining('no witness did'), witnessed: { met: false } });
    // The operator copies the honest cosignatures into the fork's table: the log service re-verifies them (never
    // published as met) and the report calls the checkpoint invalid.
    const forkLatest = forked.log.latestCheckpoint()!;
    const lines = parseNote(honestCp.checkpoint).signatures.filter((s) => s.name !== ORIGIN);
    for (const s of lines) {
      await sql(f.url, 'INSERT INTO sporbar_log.witness_cosignatures (origin, tree_size, root_hash, witness, lines) VALUES ($1, $2, $3, $4, $5)', [ORIGIN, forkLatest.treeSize, Buffer.from(forkLatest.rootHash, 'base64'), s.name, s.line]);
    }
    const tampered = await waitFor(async () => {
      const p = await published(forked);
      return p.witnessed?.witnesses.every((w) => w.status === 'invalid') ? p : undefined;
    }, 10_000, 'the copied cosignatures seen (and rejected)');
    expect(tampered.witnessed!.met).toBe(false);
    expect((await report()).integrity).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/cosignature of witness .* does not verify/) });
    await app.close();
  }, 90_000);
});
