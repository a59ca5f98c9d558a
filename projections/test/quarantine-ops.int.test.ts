import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type EventStore } from '@sporbar/event-store';
import { register, type DisclosureRecorded } from '@sporbar/schemas';
import { codec, disclosureOf, stored } from './support/disclosures.ts';
import { allProjections, createProjectionRunner, createProjectorMetrics, fromPgPool, serveProjectorMetrics, type AnyProjection, type SqlDatabase } from '../src/index.ts';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../services/event-store/test/support/postgres.ts';

/**
 * Quarantine in operation, on real PostgreSQL: the projector's metrics count quarantined events and show
 * what is still quarantined; `sporbar-projections requeue [--all]` (the real command line, its own
 * process) re-applies them after a fix, exactly once; `sporbar-projections run` serves /metrics and /health.
 */
const probe = await probePostgres();
if (probe.skip) console.warn(`quarantine-ops: skipping: ${probe.skip}`);
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

const flow = register.activities[0]!.flows[0]!;
const disclosure = (over: Partial<DisclosureRecorded> = {}): DisclosureRecorded => disclosureOf('r', over);

/** The subject-disclosures projection as a buggy release had it: it throws on one event. */
const buggy = (poisonId: string): AnyProjection[] =>
  allProjections(register).map((p) =>
    p.name !== 'subject-disclosures'
      ? p
      : {
          ...p,
          project: (e) => {
            if (e.eventId === poisonId) throw new TypeError('a bug in this release');
            return p.project(e);
          },
        },
  );

/** One sample of a Prometheus text body (summed over the series that carry these labels; 0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m?.[1] === name && want.every((w) => (m[2] ?? '').split(',').includes(w))) total += Number(m[3]);
  }
  return total;
}

describe.skipIf(probe.skip !== undefined)('quarantine in operation: metrics and the requeue command', () => {
  let database: { name: string; url: string };
  let pool: pg.Pool;
  let db: SqlDatabase;
  let store: EventStore;
  let head: bigint;
  const good = Array.from({ length: 4 }, () => disclosure());
  const nul = disclosure({ recipient: { id: 'bad\u0000id', role: flow.roles[0]! } });
  const poison = disclosure();
  const env = () => ({ ...process.env, SPORBAR_STORE: 'postgres', DATABASE_URL: database.url, LOG_LEVEL: 'info', METRICS_PORT: '0' });

  /** The real command line in its own process: exit code and output. */
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(TSX, [CLI, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      child.once('exit', (code) => resolve({ code, out }));
    });
  const count = async (sql: string) => Number((await pool.query<{ n: number }>(sql)).rows[0]!.n);

  beforeAll(async () => {
    database = await createTestDatabase(probe.url!);
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    db = fromPgPool(pool);
    store = await createPostgresEventStore({ connectionString: database.url });
    for (const d of [good[0]!, nul, good[1]!, poison, good[2]!, good[3]!]) await store.append('quarantine-ops', [stored(d)]);
    head = await store.headPosition();
  });
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    if (database) await dropTestDatabase(probe.url!, database.name);
  });

  it('counts quarantined events and what is left; requeue re-applies the fixed one exactly once; run serves /metrics and /health', async () => {
    // A buggy release quarantines the poison event (subject-disclosures) beside the NUL one the database refuses.
    const errors: unknown[] = [];
    let runner: ReturnType<typeof createProjectionRunner> | undefined;
    const metrics = createProjectorMetrics({ db, runner: () => runner, headPosition: () => store.headPosition() });
    const server = await serveProjectorMetrics(metrics, { port: 0, healthy: () => runner !== undefined });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/health`)).status).toBe(503);
      runner = createProjectionRunner({ store, db, codec, projections: buggy(poison.eventId), onQuarantine: metrics.onQuarantine, onError: (e) => errors.push(e) });
      await runner.start();
      await runner.waitFor(head);
      await runner.stop();
      expect(errors).toEqual([]);
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(sample(text, 'sporbar_projector_events_quarantined_total')).toBe(4);
      expect(sample(text, 'sporbar_projector_events_quarantined_total', { projection: 'subject-disclosures' })).toBe(2);
      expect(sample(text, 'sporbar_projector_events_quarantined_total', { projection: 'recipient-ledger' })).toBe(1);
      expect(sample(text, 'sporbar_projector_events_quarantined_total', { projection: 'compliance-alerts' })).toBe(1);
      expect(sample(text, 'sporbar_projector_quarantine_open')).toBe(4);
      expect(sample(text, 'sporbar_projector_quarantine_open', { projection: 'subject-disclosures' })).toBe(2);
      expect(sample(text, 'sporbar_projector_position')).toBe(Number(head));
      expect(await count('SELECT count(*)::int AS n FROM rm_subject_disclosures')).toBe(4);

      // The fixed release is the real one, at the same version: a plain requeue leaves everything alone.
      const plain = await cli(['requeue']);
      expect(plain.out).toContain('requeued rm_: 0 applied, 0 still failing');
      expect(plain.code).toBe(0);
      // --all: the poison event is applied now; the NUL one is still refused (exit 2, still quarantined).
      const all = await cli(['requeue', '--all']);
      expect(all.out).toContain('requeued rm_: 1 applied, 3 still failing');
      expect(all.code).toBe(2);
      expect(await count('SELECT count(*)::int AS n FROM rm_subject_disclosures')).toBe(5);
      // Exactly once: again, nothing more is applied.
      const again = await cli(['requeue', '--all']);
      expect(again.out).toContain('requeued rm_: 0 applied, 3 still failing');
      expect(await count('SELECT count(*)::int AS n FROM rm_subject_disclosures')).toBe(5);
      expect(await count(`SELECT count(*)::int AS n FROM projection_quarantine WHERE resolved_at IS NOT NULL`)).toBe(1);
      const after = await (await fetch(`${base}/metrics`)).text();
      expect(sample(after, 'sporbar_projector_quarantine_open')).toBe(3);
      expect(sample(after, 'sporbar_projector_quarantine_open', { projection: 'subject-disclosures' })).toBe(1);
      // The checkpoint lag: the events stored since the read models' checkpoint (the runner is stopped at the head).
      expect(sample(after, 'sporbar_projector_checkpoint_lag')).toBe(0);
      for (const d of [disclosure(), disclosure()]) await store.append('quarantine-ops', [stored(d)]);
      expect(sample(await (await fetch(`${base}/metrics`)).text(), 'sporbar_projector_checkpoint_lag')).toBe(2);
    } finally {
      server.close();
    }

    // `run` serves them too, on METRICS_PORT (0: a free one, which it logs).
    const child = spawn(TSX, [CLI, 'run'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.once('exit', (code) => reject(new Error(`run exited ${code}: ${out}`)));
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /"metricsPort":(\d+)[^\n]*metrics and health listening/.exec(out);
          if (m) resolve(Number(m[1]));
        });
      });
      const runBase = `http://127.0.0.1:${port}`;
      expect((await fetch(`${runBase}/health`)).status).toBe(200);
      const text = await (await fetch(`${runBase}/metrics`)).text();
      expect(sample(text, 'sporbar_projector_quarantine_open')).toBe(3);
      expect(sample(text, 'sporbar_projector_events_quarantined_total')).toBe(0); // nothing new since it started
      expect(sample(text, 'sporbar_projector_position')).toBe(Number(head));
      expect(text).toContain('sporbar_projector_process_cpu_seconds_total');
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    }
  }, 120_000);
});
