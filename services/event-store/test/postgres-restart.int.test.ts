/**
 * PostgreSQL restarted under load: nothing lost. Kept in its own file (and vitest runs files one at
 * a time) because it bounces the shared server.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retry } from '@sporbar/common/retry';
import { createPostgresEventStore, type AppendResult, type EventStore, type RecordedEvent } from '../src/index.ts';
import { collect, expectStrictlyIncreasing, ids, makeEvents, waitFor } from './support/helpers.ts';
import { createTestDatabase, dropTestDatabase, probePostgres, randomSchema, sql } from './support/postgres.ts';

const run = promisify(execFile);
const probe = await probePostgres();

/** `pg_ctlcluster --skip-systemctl-redirect <version> main restart`, if this machine can do it. */
function restartCommand(): { args: string[] } | { skip: string } {
  const bin = '/usr/bin/pg_ctlcluster';
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').filter((v) => /^\d+$/.test(v)) : [];
  const host = probe.url ? new URL(probe.url).hostname : '';
  let skip: string | undefined;
  if (!probe.url) skip = probe.skip;
  else if (!existsSync(bin) || versions.length === 0) skip = 'pg_ctlcluster or /etc/postgresql/<version> not available';
  else if (process.getuid?.() !== 0) skip = 'restarting the cluster needs root';
  else if (!['127.0.0.1', 'localhost', '::1'].includes(host)) skip = `the server ${host} is not local`;
  if (skip === undefined) return { args: ['--skip-systemctl-redirect', versions.sort().at(-1)!, 'main', 'restart'] };
  if (process.env.CI === 'true') throw new Error(`PostgreSQL restart test cannot run under CI=true: ${skip}`);
  console.warn(`[postgres-restart] skipping: ${skip}`);
  return { skip };
}
const restart = restartCommand();

describe.skipIf('skip' in restart)('PostgreSQL restarted under load', () => {
  let db: { name: string; url: string };
  let store: EventStore;
  const adapterRetries: unknown[] = [];
  beforeAll(async () => {
    db = await createTestDatabase(probe.url!);
    store = await createPostgresEventStore({
      connectionString: db.url,
      schema: randomSchema(),
      pollIntervalMs: 200,
      retry: { maxAttempts: 10, maxDelayMs: 500, onRetry: (err) => adapterRetries.push(err) },
    });
  });
  afterAll(async () => {
    await store?.close();
    if (db) await retry(() => dropTestDatabase(probe.url!, db.name), { maxAttempts: 20, isRetriable: () => true });
  });

  it('nothing lost: every acknowledged event is present exactly once, a live subscriber sees each once', async () => {
    const acked: string[] = [];
    const retriesSeen: unknown[] = [];
    const seen: RecordedEvent[] = [];
    const sub = store.subscribe((e) => void seen.push(e), { batchSize: 200 });
    let stop = false;
    const writer = async (w: number) => {
      let revision: bigint | 'no_stream' = 'no_stream';
      while (!stop) {
        const batch = makeEvents(10);
        const expectedRevision: bigint | 'no_stream' = revision;
        const result: AppendResult = await retry(() => store.append(`writer-${w}`, batch, { expectedRevision }), {
          maxAttempts: 60,
          initialDelayMs: 50,
          maxDelayMs: 500,
          onRetry: (err) => retriesSeen.push(err),
        });
        // a lost acknowledgement is retried and reported as duplicates: the events are there once
        expect([...result.appended, ...result.duplicates].sort()).toEqual(ids(batch).sort());
        revision = result.nextExpectedRevision;
        acked.push(...ids(batch));
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await waitFor(() => acked.length >= 2_000, 30_000, 'load before the restart');
    const before = acked.length;
    const startTime = async () => (await sql<{ t: Date }>(db.url, 'SELECT pg_postmaster_start_time() AS t'))[0]!.t.getTime();
    const started = await startTime();
    await run('/usr/bin/pg_ctlcluster', (restart as { args: string[] }).args, { timeout: 60_000 });
    await waitFor(() => acked.length >= before + 2_000, 60_000, 'load after the restart');
    stop = true;
    await Promise.all(writers);
    expect(await startTime()).toBeGreaterThan(started); // the server really was restarted
    expect(adapterRetries.length + retriesSeen.length).toBeGreaterThan(0); // and the writers noticed
    expect(adapterRetries.every((e) => (e as { code?: string }).code === 'SPB_ERR_STORE_UNAVAILABLE')).toBe(true);

    const log = await collect(store.readAll({ batchSize: 5_000 }));
    const counts = new Map<string, number>();
    for (const e of log) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1);
    expect(log).toHaveLength(acked.length);
    for (const id of acked) expect(counts.get(id)).toBe(1);
    expectStrictlyIncreasing(log);
    expect(log.map((e) => e.globalPosition)).toEqual(log.map((_, i) => BigInt(i + 1))); // no gaps either

    await waitFor(() => seen.length >= acked.length, 60_000, 'subscriber catches up after the restart');
    await sub.stop();
    expect(ids(seen)).toEqual(ids(log));
    console.info(`[postgres-restart] ${acked.length} events acknowledged, ${adapterRetries.length} adapter retries, ${retriesSeen.length} caller retries`);
  }, 180_000);
});
