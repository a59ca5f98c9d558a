// The price of seeing every shred at once: a report page's details opened with the cached `decrypt`
// (the key cache trusted for cacheTtlMs) next to `decryptMany` (one indexed liveness query per page),
// on real PostgreSQL (DATABASE_URL, default postgres@127.0.0.1:5432/test), in one run.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pgPoolSqlClient } from '@sporbar/common/sql';
import { createPseudonymiser, createSubjectKeyStore, generateMasterKeySecret, keyScope, migrateSubjectKeys, parseMasterKey } from '../src/index.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2_000);
const pool = new pg.Pool({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test', max: 4 });
const table = `bench_keys_${randomUUID().slice(0, 8)}`;
await migrateSubjectKeys(pgPoolSqlClient(pool), { table });
const store = createSubjectKeyStore({ db: pool, table, masterKey: parseMasterKey({ id: 'm1', secret: generateMasterKeySecret() }) });
const pseudonymiser = createPseudonymiser({ id: 'k1', secret: Buffer.alloc(32, 5).toString('base64url') });
// 10,000 subjects with keys (so the index is not trivially small), one citizen's pages measured.
for (let i = 0; i < 10_000; i += 1_000) {
  await store.prepare(Array.from({ length: 1_000 }, (_, j) => keyScope(pseudonymiser.pseudonym(`${String(1 + ((i + j) % 28)).padStart(2, '0')}0680-${String(i + j).padStart(4, '0')}`), 'mitid-core')));
}
const me = pseudonymiser.pseudonym('150377-2814');
const scopes = [keyScope(me, 'mitid-core'), keyScope(me, 'nemkonto-register'), keyScope(me, 'mitid-support')];

async function page(size: number) {
  return Promise.all(
    Array.from({ length: size }, async (_, i) => {
      const subject = scopes[i % scopes.length]!;
      const eventId = randomUUID();
      return { subject, eventId, blob: await store.encrypt(subject, eventId, { ipAddress: `10.0.0.${i % 250}` }) };
    }),
  );
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
console.log(`page size | cached decrypt p50 / p99 (µs) | decryptMany p50 / p99 (µs) | added p50 (µs)`);
for (const size of [1, 20, 100]) {
  const items = await page(size);
  const timed = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 200; i++) await fn(); // warm-up
    const t: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const s = performance.now();
      await fn();
      t.push((performance.now() - s) * 1000);
    }
    return t;
  };
  const cached = await timed(() => Promise.all(items.map((r) => store.decrypt(r.subject, r.eventId, r.blob))));
  const fresh = await timed(() => store.decryptMany(items));
  const f = (x: number) => x.toFixed(0);
  console.log(`${size} | ${f(quantile(cached, 0.5))} / ${f(quantile(cached, 0.99))} | ${f(quantile(fresh, 0.5))} / ${f(quantile(fresh, 0.99))} | ${f(quantile(fresh, 0.5) - quantile(cached, 0.5))}`);
}
await pool.query(`DROP TABLE ${table}, ${table}_migrations`);
await pool.end();
