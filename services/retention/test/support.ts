import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../ingest/test/support.ts';

export { createTestDatabase, dropTestDatabase, kafkaClient, pipelineEnv, probePostgres, randomName, readTopic, waitFor } from '../../ingest/test/support.ts';

export const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

/** A Sporbar program run as its own process, as an operator runs it: its output kept, its exit awaited. */
export interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything it wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (a signal's death is null). */
  readonly exited: Promise<number | null>;
}

/**
 * Starts `node --import tsx <script> …` from the repository root: the program is the process itself
 * (the `tsx` command would run it in a child of its own), so a signal sent here, SIGKILL included, is
 * what the program gets.
 */
export function startService(name: string, args: string[], env: Record<string, string>, logs: string[] = []): Service {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root(''), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    logs.push(`[${name}] ${b.toString()}`);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, output: () => out, exited };
}

/** The port a worker logged for its /metrics, /health and /ready (METRICS_PORT=0 picks a free one). */
export async function metricsPortOf(service: Service, timeoutMs = 60_000): Promise<number> {
  let port = 0;
  await waitFor(
    () => {
      const m = /"metricsPort":(\d+)/.exec(service.output());
      port = m ? Number(m[1]) : 0;
      if (service.child.exitCode !== null) throw new Error(`${service.name} exited (${service.child.exitCode}):\n${service.output()}`);
      return port > 0;
    },
    timeoutMs,
    `${service.name} listening`,
  );
  return port;
}

/** The status of GET url, or 0 when nothing answers. */
export const statusOf = async (url: string): Promise<number> => (await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => null))?.status ?? 0;

/** One sample of a Prometheus text exposition (the sum over label sets when `labels` is omitted). */
export async function metricValue(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
  return values.reduce((a, b) => a + b, 0);
}

/** SIGTERM, then the exit code and how long it took. */
export async function terminate(service: Service): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  service.child.kill('SIGTERM');
  const code = await service.exited;
  return { code, ms: Date.now() - t0 };
}
