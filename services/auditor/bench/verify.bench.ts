/**
 * `verify`, `export` and `compare` over a real PostgreSQL log, side by side with the limit: plain SHA-256 per
 * event over the same bytes, read the same way (one COPY … TO STDOUT (FORMAT binary)).
 *
 *   BENCH_EVENTS (default 1,000,000)   events of ~300 bytes, appended with the postgres adapter in batches of 1,000
 *   BENCH_CHECKPOINT_EVERY (10,000)    a signed CheckpointSigned after every this many events
 *   BENCH_PORT=0                       skip the row that reads through EventStore.readAll (slow by design)
 *
 * The auditor reads through the port's scanAll, which is one COPY in binary format on PostgreSQL;
 * the readAll row shows what the iterator of RecordedEvent objects costs instead.
 *   DATABASE_URL                       server (default postgres://postgres@127.0.0.1:5432/test); a scratch database is created and dropped
 *
 * Payloads are pseudo-random bytes behind a DisclosureRecorded single-object header: verify hashes
 * every event but decodes only checkpoints, so the payload's content does not change the work.
 */
import { hash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPostgresEventStore, type EventStore } from '@sporbar/event-store';
import { createCodec } from '@sporbar/schemas';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { ORIGIN_METADATA_KEY, signCheckpointEvent } from '../src/checkpoint/checkpoint-event.ts';
import { generateSigningKey, logOrigin } from '../src/checkpoint/signed-tree-head.ts';
import { compareExport, formatCompare } from '../src/compare.ts';
import { exportLog } from '../src/export.ts';
import { CHECKPOINT_STREAM, storeLogSource, type LogSource } from '../src/log/source.ts';
import { CompactRange } from '../src/merkle/compact-range.ts';
import { formatReport, verifyLog } from '../src/verify.ts';

const N = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const EVERY = Number(process.env['BENCH_CHECKPOINT_EVERY'] ?? 10_000);
const PORT = process.env['BENCH_PORT'] !== '0';
const BATCH = 1000;

/** The log through the port's readAll iterator instead of scanAll: the comparison row. */
function readAllLogSource(store: EventStore, batchSize: number): LogSource {
  const viaScan = storeLogSource(store);
  return {
    ...viaScan,
    description: 'PostgreSQL (readAll)',
    async scan(onRow, options = {}) {
      let count = 0;
      const max = options.maxCount ?? Number.POSITIVE_INFINITY;
      if (max <= 0) return;
      for await (const e of store.readAll({ after: options.after ?? 0n, batchSize })) {
        if (options.upTo !== undefined && e.globalPosition > options.upTo) return;
        const r = onRow({ position: e.globalPosition, eventId: e.eventId, data: e.data, type: e.type, streamName: e.streamName, recordedAt: e.recordedAt, metadata: e.metadata });
        if (r) await r;
        if (++count >= max) return;
      }
    },
  };
}

const probe = await probePostgres().catch((e: Error) => ({ skip: e.message, url: undefined }));
if (!probe.url) {
  console.log(`verify bench skipped: ${probe.skip}`);
  process.exit(0);
}
const db = await createTestDatabase(probe.url);
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);

try {
  const codec = createCodec();
  const key = generateSigningKey();
  const origin = logOrigin('bench');
  const store = await createPostgresEventStore({ pool });
  const header = Buffer.alloc(10);
  header[0] = 0xc3;
  header[1] = 0x01;
  Buffer.from(codec.fingerprintHex('DisclosureRecorded'), 'hex').copy(header, 2);

  // ---- generate ----
  const t0 = performance.now();
  const range = new CompactRange();
  let written = 0;
  let checkpoints = 0;
  while (written < N) {
    const n = Math.min(BATCH, N - written);
    const pad = randomBytes(290 * n);
    const events = Array.from({ length: n }, (_, i) => ({ eventId: randomUUID(), type: 'DisclosureRecorded', data: Buffer.concat([header, pad.subarray(i * 290, (i + 1) * 290)]) }));
    await store.append(`subject-${written % 997}`, events);
    for (const e of events) range.appendLeaf(e.data);
    written += n;
    if (written % EVERY === 0 || written === N) {
      const { event } = signCheckpointEvent({ origin, treeSize: range.size, rootHash: range.root() }, key);
      const data = codec.encode('CheckpointSigned', event);
      await store.append(CHECKPOINT_STREAM, [{ eventId: event.eventId, type: 'CheckpointSigned', data, metadata: { [ORIGIN_METADATA_KEY]: origin } }]);
      range.appendLeaf(data);
      checkpoints++;
    }
    if (written % 100_000 === 0) process.stderr.write(`generated ${written.toLocaleString('en-US')}\n`);
  }
  const leaves = range.size;
  console.log(`generated ${N.toLocaleString('en-US')} events + ${checkpoints} checkpoints in ${((performance.now() - t0) / 1000).toFixed(1)} s (postgres adapter, batches of ${BATCH})`);

  const copy = storeLogSource(store, 'PostgreSQL (scanAll: COPY binary)');
  const rows: { name: string; seconds: number; rss: number; note?: string }[] = [];
  const timed = async (name: string, fn: () => Promise<string | void>) => {
    if (global.gc) global.gc();
    peak = process.memoryUsage.rss();
    const s = performance.now();
    const note = await fn();
    rows.push({ name, seconds: (performance.now() - s) / 1000, rss: Math.max(peak, process.memoryUsage.rss()), ...(note ? { note } : {}) });
  };
  const scan = (source: LogSource, f: (d: Uint8Array) => void) => source.scan((r) => f(r.data), { columns: 'leaf' });

  let sink = 0;
  await timed('read only (scanAll: COPY binary)', () => scan(copy, (d) => void (sink += d.length)));
  await timed('read + SHA-256 per event (the limit)', () => scan(copy, (d) => void (sink += hash('sha256', d, 'buffer')[0]!)));
  let verifyNote = '';
  await timed('verify (scanAll: COPY binary)', async () => {
    const r = await verifyLog({ source: copy, codec, publicKey: key });
    if (!r.ok || r.leaves !== leaves) throw new Error(formatReport(r));
    verifyNote = `${r.checkpointsVerified} checkpoints, ${r.consistencyProofsChecked} consistency proofs`;
    return verifyNote;
  });
  await timed('read + SHA-256 per event (the limit), again', () => scan(copy, (d) => void (sink += hash('sha256', d, 'buffer')[0]!)));
  await timed('verify (scanAll: COPY binary), again', async () => {
    const r = await verifyLog({ source: copy, codec, publicKey: key });
    if (!r.ok) throw new Error(formatReport(r));
  });
  if (PORT) {
    await timed('verify through EventStore.readAll', async () => {
      const r = await verifyLog({ source: readAllLogSource(store, 5000), codec, publicKey: key });
      if (!r.ok) throw new Error(formatReport(r));
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'sporbar-bench-'));
  try {
    for (const format of ['avro', 'ndjson'] as const) {
      const out = join(dir, `export.${format}`);
      await timed(`export ${format} (whole log, + inclusion proofs)`, async () => {
        const r = await exportLog({ source: copy, codec, format, out, publicKey: key });
        const size = statSync(out).size + (format === 'avro' ? statSync(`${out}.proofs.ndjson`).size : 0);
        return `${r.events.toLocaleString('en-US')} events, ${mb(size)} written`;
      });
      await timed(`compare ${format} export with the store`, async () => {
        const r = await compareExport({ source: copy, path: out });
        if (!r.same) throw new Error(formatCompare(r, out));
        return `${r.compared.toLocaleString('en-US')} leaves compared`;
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await store.close();

  const limit = Math.min(...rows.filter((r) => r.name.startsWith('read + SHA-256')).map((r) => r.seconds));
  const rate = (s: number) => Math.round(leaves / s);
  console.log(`\n${leaves.toLocaleString('en-US')} leaves (${N.toLocaleString('en-US')} events of ~300 B + ${checkpoints} checkpoints), PostgreSQL ${(await pool.query('SHOW server_version')).rows[0].server_version}, node ${process.version}\n`);
  console.log('| row | events/s | seconds | × limit | peak RSS | note |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(`| ${r.name} | ${rate(r.seconds).toLocaleString('en-US')} | ${r.seconds.toFixed(2)} | ${(limit / r.seconds).toFixed(2)} | ${mb(r.rss)} | ${r.note ?? ''} |`);
  }
  console.log(`\n(sink ${sink % 10})`);
} finally {
  clearInterval(sampler);
  await pool.end();
  await dropTestDatabase(probe.url, db.name);
}
