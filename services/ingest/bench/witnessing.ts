/**
 * The pipeline bench's log side (BENCH_WITNESS_ROUNDS): the checkpointing log service `sporbar-log` as
 * its own process over the bench's PostgreSQL store, with or without two `sporbar-witness` processes
 * (each its own key and schema in the same database) in its witness policy (quorum: both; without: a
 * policy of `quorum none`, as production requires one). The
 * witnesses start once and stay up; each run starts its own log service and stops it at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadVerifyingKey, verifierKeyString } from '@sporbar/auditor';
import { createCosigner, formatPolicy } from '@sporbar/auditor/note';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const ORIGIN = 'sporbar.v1/pipeline-bench';

interface Proc {
  readonly child: ChildProcess;
  readonly address: string;
  stop(): Promise<void>;
}

/** A node process with tsx as a loader; resolves once a log line carries its address. */
function startProcess(main: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root(''), env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer) => {
      if (output.length < 100_000) output += b.toString();
      const m = ready.exec(output);
      if (m) {
        output = '';
        resolve({
          child,
          address: m[1]!,
          async stop() {
            if (child.exitCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData); // read to the end: a full pipe would stall the process
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${main} exited with ${code}: ${output.slice(-2000)}`)));
  });
}

export interface LogRunSummary {
  readonly checkpointsSigned: number;
  /** The checkpoint published at the end, with the policy's verdict (witnessed runs). */
  readonly published: { treeSize: number; met?: boolean } | null;
  readonly witnessedSizes: Record<string, number>;
  /** Subject map roots committed during the run. */
  readonly mapCommitments: number;
}

export interface LogSide {
  /** Starts `sporbar-log` (with the witness policy when `witnessed`); `finish` waits (≤ 15 s) for a checkpoint of everything stored (cosigned by both when witnessed), summarises and stops it. */
  startLog(witnessed: boolean, subjectMap?: boolean): Promise<{ readonly pid: number | undefined; finish(storedEvents: number): Promise<LogRunSummary> }>;
  /** pid → 'witnesses', for the machine CPU split. */
  readonly witnessPids: Readonly<Record<number, string>>;
  stop(): Promise<void>;
}

export async function startLogSide(databaseUrl: string, work: string): Promise<LogSide> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyFile = join(work, 'checkpoint.key');
  writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
  const logVkey = verifierKeyString(ORIGIN, loadVerifyingKey(publicKey.export({ format: 'pem', type: 'spki' }).toString()).publicKeyRaw);
  const logsFile = join(work, 'witness-logs.json');
  writeFileSync(logsFile, JSON.stringify({ logs: [{ origin: ORIGIN, keys: [logVkey] }] }));
  const witnesses: Array<{ name: string; vkey: string; proc: Proc }> = [];
  for (const [name, schema] of [
    ['datatilsynet.bench/witness', 'witness_a'],
    ['rigsrevisionen.bench/witness', 'witness_b'],
  ] as const) {
    const key = generateKeyPairSync('ed25519').privateKey;
    const file = join(work, `${schema}.pem`);
    writeFileSync(file, key.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
    const proc = await startProcess(root('services/witness/src/main.ts'), ['serve'], { SPORBAR_WITNESS_NAME: name, SPORBAR_WITNESS_KEY_FILE: file, SPORBAR_WITNESS_LOGS: logsFile, DATABASE_URL: databaseUrl, SPORBAR_WITNESS_SCHEMA: schema, LOG_LEVEL: 'info' }, /"address":"(http:\/\/127\.0\.0\.1:\d+)"/);
    witnesses.push({ name, vkey: createCosigner(name, key).vkey, proc });
  }
  // Production requires a policy: without witnesses it says so (`quorum none`).
  const mapKey = randomBytes(32).toString('base64url');
  const nonePolicyFile = join(work, 'no-witness-policy.txt');
  writeFileSync(nonePolicyFile, formatPolicy({ logs: [{ vkey: logVkey }], witnesses: [], quorum: 'none' }));
  const policyFile = join(work, 'witness-policy.txt');
  writeFileSync(policyFile, formatPolicy({ logs: [{ vkey: logVkey }], witnesses: witnesses.map((w) => ({ name: w.name, vkey: w.vkey, url: w.proc.address })) }));

  return {
    witnessPids: Object.fromEntries(witnesses.flatMap((w) => (w.proc.child.pid === undefined ? [] : [[w.proc.child.pid, 'witnesses']]))),
    async startLog(witnessed, subjectMap = true) {
      const proc = await startProcess(
        root('services/log/src/main.ts'),
        [],
        {
          SPORBAR_STORE: 'postgres',
          DATABASE_URL: databaseUrl,
          SPORBAR_LOG_ORIGIN: ORIGIN,
          SPORBAR_CHECKPOINT_KEY_FILE: keyFile,
          // A checkpoint per 1,000 events (the default) and every 5 s when anything is uncovered.
          SPORBAR_CHECKPOINT_INTERVAL_SECONDS: '5',
          SPORBAR_WITNESS_POLICY_FILE: witnessed ? policyFile : nonePolicyFile,
          // The subject map (issue 22), committed as often as checkpoints are signed on time (5 s): its
          // worst cadence. Off: a development log without the key keeps no map (production requires it).
          ...(subjectMap ? { SPORBAR_SUBJECT_MAP_KEY: mapKey, SPORBAR_SUBJECT_MAP_INTERVAL_SECONDS: '5' } : { SPORBAR_ENV: 'development' }),
        },
        /"address":"(http:[^"]+)".*log service listening/,
      );
      // Caught up before the measured run: the signer's checkpointer (and its subject map) has read the whole
      // store, as a log service running for days would have; a start's replay is not what the run measures.
      const until = Date.now() + 300_000;
      for (;;) {
        const metrics = await (await fetch(`${proc.address}/metrics`)).text();
        const signer = Number(/^sporbar_log_signer_tree_size (\S+)$/m.exec(metrics)?.[1] ?? -1);
        const tree = Number(/^sporbar_log_tree_size (\S+)$/m.exec(metrics)?.[1] ?? 0);
        if (signer >= 0 && signer >= tree) break;
        if (Date.now() > until) throw new Error('the log service did not catch up with the store within 300 s');
        await new Promise((r) => setTimeout(r, 200));
      }
      return {
        pid: proc.child.pid,
        async finish(storedEvents) {
          const until = Date.now() + 15_000;
          let published: LogRunSummary['published'] = null;
          while (Date.now() < until) {
            const r = await fetch(`${proc.address}/v1/log/checkpoint`);
            if (r.status === 200) {
              const body = (await r.json()) as { treeSize: number; witnessed?: { met: boolean } };
              published = { treeSize: body.treeSize, ...(body.witnessed ? { met: body.witnessed.met } : {}) };
              if (body.treeSize >= storedEvents && (!witnessed || body.witnessed?.met)) break;
            }
            await new Promise((r) => setTimeout(r, 250));
          }
          const metrics = await (await fetch(`${proc.address}/metrics`)).text();
          const checkpointsSigned = Number(/^sporbar_log_checkpoints_signed_total (\S+)$/m.exec(metrics)?.[1] ?? 0);
          const mapCommitments = Number(/^sporbar_log_subject_map_commitments_total (\S+)$/m.exec(metrics)?.[1] ?? 0);
          const witnessedSizes: Record<string, number> = {};
          for (const m of metrics.matchAll(/^sporbar_log_witness_cosigned_size\{witness="([^"]+)"\} (\S+)$/gm)) witnessedSizes[m[1]!] = Number(m[2]);
          await proc.stop();
          return { checkpointsSigned, published, witnessedSizes, mapCommitments };
        },
      };
    },
    async stop() {
      await Promise.all(witnesses.map((w) => w.proc.stop()));
    },
  };
}
