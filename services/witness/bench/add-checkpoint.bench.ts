/**
 * add-checkpoint over HTTP (keep-alive) against one witness with its state in PostgreSQL, side by side
 * with its floor: the same compare-and-swap UPDATE sent straight to PostgreSQL, one at a time.
 *
 *   BENCH_CHECKPOINTS (default 2,000)   sequential checkpoints, each one leaf more than the last
 *   DATABASE_URL                        server (default postgres://postgres@127.0.0.1:5432/test); a scratch database is created and dropped
 *
 * What a witness adds on top of the database write: parsing, the log's Ed25519 signature check, the
 * RFC 9162 consistency proof, the cosignature and HTTP.
 */
import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { createCosigner } from '@sporbar/auditor/note';
import { parseLogsFile } from '../src/logs.ts';
import { buildWitnessServer } from '../src/server.ts';
import { openPostgresStore } from '../src/store.ts';
import { createWitness } from '../src/witness.ts';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { createTestLog } from '../test/support/test-log.ts';
import { bodyOf } from '../test/support/witness.ts';

const N = Number(process.env['BENCH_CHECKPOINTS'] ?? 2000);
const probe = await probePostgres();
if (probe.skip) throw new Error(probe.skip);
const db = await createTestDatabase(probe.url!);
const log = createTestLog('sporbar.bench/witness');
log.append(N + 1);
// Made before the clock starts.
const bodies = Array.from({ length: N }, (_, i) => bodyOf(log, i, i + 1));
const roots = Array.from({ length: N + 1 }, (_, i) => log.root(i));
const store = await openPostgresStore(db.url, 'witness');
const witness = createWitness({ cosigner: createCosigner('bench/witness', generateKeyPairSync('ed25519').privateKey), logs: parseLogsFile(JSON.stringify({ logs: [{ origin: log.origin, keys: [log.vkey] }] })), store });
const app = buildWitnessServer({ witness, store });
const url = await app.listen({ host: '127.0.0.1', port: 0 });

const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
async function timed(label: string, one: (i: number) => Promise<void>) {
  const each: number[] = [];
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await one(i);
    each.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  return { label, perSecond: Math.round(N / seconds), p50: pct(each, 50).toFixed(2), p99: pct(each, 99).toFixed(2) };
}

try {
  const witnessRow = await timed('POST /add-checkpoint (witness)', async (i) => {
    const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: bodies[i] });
    if (res.status !== 200) throw new Error(`checkpoint ${i + 1}: ${res.status} ${await res.text()}`);
    await res.text();
  });
  const client = new pg.Client({ connectionString: db.url, options: '-c synchronous_commit=on' });
  await client.connect();
  await client.query(`CREATE TABLE floor (origin text PRIMARY KEY, tree_size bigint, root_hash bytea, note text)`);
  await client.query(`INSERT INTO floor VALUES ($1, 0, $2, '')`, [log.origin, roots[0]]);
  const note = (await store.get(log.origin))!.note;
  const floorRow = await timed('the same UPDATE straight to PostgreSQL (floor)', async (i) => {
    const r = await client.query(`UPDATE floor SET tree_size = $2, root_hash = $3, note = $4 WHERE origin = $1 AND tree_size = $5 AND root_hash = $6 RETURNING origin`, [
      log.origin,
      i + 1,
      roots[i + 1],
      note,
      i,
      roots[i],
    ]);
    if (r.rowCount !== 1) throw new Error('floor CAS lost');
  });
  await client.end();
  console.log(`\nadd-checkpoint, ${N} sequential checkpoints, one witness, PostgreSQL state\n`);
  console.table([witnessRow, floorRow].map((r) => ({ '': r.label, 'per second': r.perSecond, 'p50 ms': r.p50, 'p99 ms': r.p99 })));
} finally {
  await app.close();
  await store.close();
  await dropTestDatabase(probe.url!, db.name);
}
