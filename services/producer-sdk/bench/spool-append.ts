// Spool append throughput with group commit: N single-record appends with C of them outstanding at a
// time (each append resolves only after its write + fdatasync), and 500-record batch appends.
//   npm run bench:spool -w @sporbar/producer     (or: npx tsx bench/spool-append.ts)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Spool } from '../src/spool/index.ts';

const payload = Buffer.alloc(400, 7); // about one sealed Avro disclosure event with headers

async function run(label: string, total: number, concurrency: number, perAppend: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sporbar-spool-bench-'));
  const spool = await Spool.open({ dir, maxBytes: 1024 * 1024 * 1024 });
  try {
    const records = Array.from({ length: perAppend }, () => payload);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next += perAppend;
          await spool.append(records);
        }
      }),
    );
    const s = (performance.now() - t0) / 1000;
    console.log(`${label.padEnd(44)} ${String(Math.round(total / s)).padStart(9)} records/s  (${(s * 1000).toFixed(0)} ms for ${total})`);
  } finally {
    await spool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`spool append, ${payload.length}-byte records, fdatasync before resolve (${os.tmpdir()})`);
await run('1 append outstanding (one fsync per record)', 2_000, 1, 1);
await run('10 appends outstanding', 10_000, 10, 1);
await run('100 appends outstanding', 50_000, 100, 1);
await run('1000 appends outstanding', 100_000, 1000, 1);
await run('500-record appends, 1 outstanding', 100_000, 1, 500);
await run('500-record appends, 4 outstanding', 200_000, 4, 500);
