import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECKPOINT_STREAM, checkpointTextOf, loadVerifyingKey, verifierKeyString } from '@sporbar/auditor';
import type { CheckpointSigned } from '@sporbar/schemas';
import { createPostgresEventStore, type EventStore } from '@sporbar/event-store';
import { codec } from '../../auditor/test/support.ts';

export { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
export { appendDisclosures, codec, disclosure, toAppend } from '../../auditor/test/support.ts';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
export const LOG_MAIN = root('services/log/src/main.ts');
export const ORIGIN = 'sporbar.v1/log-test';

/** An Ed25519 key pair as `sporbar keys init` writes it: `checkpoint.key` (PKCS#8 PEM) and `checkpoint.pub.pem` (SPKI PEM). */
export function checkpointKeyFiles(dir = mkdtempSync(join(tmpdir(), 'sporbar-log-key-'))): { dir: string; keyFile: string; publicKeyFile: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'checkpoint.key');
  const publicKeyFile = join(dir, 'checkpoint.pub.pem');
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
  writeFileSync(publicKeyFile, publicKeyPem);
  return { dir, keyFile, publicKeyFile, publicKeyPem };
}

/**
 * A witness policy with this log and no witnesses (`quorum none`): what production requires at the least
 * (SPORBAR_WITNESS_POLICY_FILE), written next to nothing else. `publicKey`: a PEM, or the private key file's path.
 */
export function noWitnessPolicyFile(publicKey: { pem?: string; keyFile?: string }, origin = ORIGIN): string {
  const pem = publicKey.pem ?? createPublicKey(readFileSync(publicKey.keyFile!, 'utf8')).export({ format: 'pem', type: 'spki' }).toString();
  const file = join(mkdtempSync(join(tmpdir(), 'sporbar-log-policy-')), 'policy.txt');
  writeFileSync(file, `log ${verifierKeyString(origin, loadVerifyingKey(pem).publicKeyRaw)}\nquorum none\n`);
  return file;
}

/** The environment of a log service on `databaseUrl` (key file signer), with the test's short interval and a `quorum none` policy. */
export function logEnv(databaseUrl: string, keyFile: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SPORBAR_STORE: 'postgres',
    DATABASE_URL: databaseUrl,
    SPORBAR_LOG_ORIGIN: ORIGIN,
    SPORBAR_CHECKPOINT_KEY_FILE: keyFile,
    SPORBAR_CHECKPOINT_INTERVAL_SECONDS: '1',
    SPORBAR_LEADER_RETRY_SECONDS: '1',
    PORT: '0',
    LOG_LEVEL: 'info',
    SPORBAR_WITNESS_POLICY_FILE: noWitnessPolicyFile({ keyFile }, extra['SPORBAR_LOG_ORIGIN'] ?? ORIGIN),
    SPORBAR_SUBJECT_MAP_KEY: TEST_SUBJECT_MAP_KEY,
    ...extra,
  };
}

export interface LogProcess {
  readonly child: ChildProcess;
  readonly output: string[];
  /** Resolves with the base URL once the service logged that it listens. */
  readonly ready: Promise<string>;
  /** Resolves with the exit code (or signal). */
  readonly exited: Promise<number | string>;
}

/**
 * Starts `sporbar-log` as its own process (no variable of the test's own environment but PATH and
 * HOME): one node process with tsx as a loader (the `tsx` command would put a wrapper process in
 * between, and a kill -9 of the wrapper would leave the service running).
 */
export function startLogProcess(env: Record<string, string>, name = 'log'): LogProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', LOG_MAIN], {
    cwd: root(''),
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let onAddress: (url: string) => void;
  const ready = new Promise<string>((resolve, reject) => {
    onAddress = resolve;
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening:\n${output.join('')}`)));
  });
  ready.catch(() => undefined);
  const read = (b: Buffer) => {
    const text = b.toString();
    output.push(text);
    for (const line of text.split('\n')) {
      const m = /"address":"(http:[^"]+)"/.exec(line);
      if (m && line.includes('log service listening')) onAddress(m[1]!);
    }
  };
  child.stdout!.on('data', read);
  child.stderr!.on('data', read);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output, ready, exited };
}

export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function getJson<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Prometheus text
  }
  return { status: r.status, body: body as T };
}

/** One sample of a Prometheus text page (undefined when absent). */
export function sample(metrics: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : undefined;
}

export const metricsOf = async (base: string): Promise<string> => (await fetch(`${base}/metrics`)).text();

export async function openStore(databaseUrl: string): Promise<EventStore> {
  return createPostgresEventStore({ connectionString: databaseUrl, poolSize: 2 });
}

/** Every CheckpointSigned event in the store, decoded, with the checkpoint text it stands for. */
export async function storedCheckpoints(store: EventStore, origin = ORIGIN): Promise<Array<{ event: CheckpointSigned; text: string; position: bigint }>> {
  const out: Array<{ event: CheckpointSigned; text: string; position: bigint }> = [];
  for await (const e of store.readStream(CHECKPOINT_STREAM)) {
    const event = codec.decode(e.data).event as CheckpointSigned;
    out.push({ event, text: checkpointTextOf(event, origin)!, position: e.globalPosition });
  }
  return out;
}

/** The subject map's key the test log services run with (production requires one). */
export const TEST_SUBJECT_MAP_KEY = Buffer.alloc(32, 7).toString('base64url');
