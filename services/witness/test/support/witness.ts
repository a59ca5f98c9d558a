import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAddCheckpointBody } from '../../src/request.ts';
import type { TestLog } from './test-log.ts';

export const PACKAGE_DIR = new URL('../..', import.meta.url).pathname;
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

/** POST <url>/add-checkpoint with a raw body (`contentType` null: no Content-Type header at all): status, content type, text. */
export async function post(url: string, body: string | Buffer, contentType: string | null = 'text/plain') {
  const res = await fetch(`${url}/add-checkpoint`, {
    method: 'POST',
    headers: contentType === null ? {} : { 'content-type': contentType },
    body: contentType === null ? new Uint8Array(Buffer.from(body)) : body,
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The add-checkpoint body of `log` at `size` (default: all) from `from`, with the log's own proof. */
export const bodyOf = (log: TestLog, from: number, size = log.size()): string => formatAddCheckpointBody(from, from === 0 ? [] : log.proof(from, size), log.checkpoint(size));

/** A directory with a logs file and a fresh witness key. */
export function witnessFiles(logs: readonly TestLog[]): { logsFile: string; keyFile: string; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sporbar-witness-'));
  const logsFile = join(dir, 'logs.json');
  writeFileSync(logsFile, JSON.stringify({ logs: logs.map((l) => ({ origin: l.origin, keys: [l.vkey] })) }));
  const keyPem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const keyFile = join(dir, 'witness.pem');
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  return { logsFile, keyFile, keyPem };
}

export interface WitnessProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

/** `sporbar-witness serve` as its own process, on a free port; resolves once it listens. */
export async function startWitness(env: Record<string, string>): Promise<WitnessProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
    cwd: PACKAGE_DIR,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`sporbar-witness exited with ${code}: ${output.slice(-2000)}`)));
  });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
