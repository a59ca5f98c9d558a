import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { createKafkaTransport, crc32, decodeMessage, encodeMessage, Spool, type SpoolEntry } from '../src/index.ts';

let dir: string;
const open: Spool[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sporbar-spool-'));
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function openSpool(opts: { maxBytes?: number; segmentBytes?: number } = {}): Promise<Spool> {
  const s = await Spool.open({ dir, ...opts });
  open.push(s);
  return s;
}
async function closeSpool(s: Spool): Promise<void> {
  open.splice(open.indexOf(s), 1);
  await s.close();
}
const rec = (i: number, pad = 20) => Buffer.from(`record-${i}-${'x'.repeat(pad)}`);
const segFiles = () => fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
async function readAll(s: Spool, chunk = 1000): Promise<SpoolEntry[]> {
  const out: SpoolEntry[] = [];
  for (;;) {
    const got = await s.read(chunk);
    if (got.length === 0) return out;
    out.push(...got);
  }
}

describe('crc32 and the message codec', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('6789'), crc32(Buffer.from('12345')))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('round-trips a message with key, headers, value and acceptance time', () => {
    const m = { key: 'k-æøå', value: Buffer.from([0xc3, 0x01, 0, 255]), headers: { 'sporbar-event-id': 'e1', empty: '' }, acceptedAt: 1_700_000_000_123 };
    const back = decodeMessage(encodeMessage(m));
    expect(back).toEqual(m);
    expect(() => decodeMessage(encodeMessage(m).subarray(0, 14))).toThrow(/truncated/);
  });
});

describe('Spool', () => {
  it('reads appended records back in append order (concurrent appends are group-committed)', async () => {
    const s = await openSpool();
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.append([rec(2 * i), rec(2 * i + 1)])));
    const all = await readAll(s, 7);
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(all.map((e) => e.payload.toString())).toEqual(Array.from({ length: 100 }, (_, i) => rec(i).toString()));
    expect(await s.read(10)).toEqual([]);
    expect(s.isEmpty).toBe(false);
    expect(s.stats().pendingRecords).toBe(100);
  });

  it('keeps records across close and reopen, and continues the sequence', async () => {
    let s = await openSpool();
    await s.append([rec(0), rec(1), rec(2)]);
    await closeSpool(s);
    s = await openSpool();
    expect(s.recovery).toEqual({ segments: 1, pendingRecords: 3, truncatedBytes: 0 });
    await s.append([rec(3)]);
    expect((await readAll(s)).map((e) => [e.seq, e.payload.toString()])).toEqual([0, 1, 2, 3].map((i) => [i, rec(i).toString()]));
  });

  it('truncates a torn last record (crash mid-write) and appends cleanly after it', async () => {
    let s = await openSpool();
    await s.append([rec(0), rec(1), rec(2)]);
    await closeSpool(s);
    const seg = path.join(dir, segFiles()[0]!);
    const goodSize = fs.statSync(seg).size;
    // A record header promising 100 bytes, followed by only 10 of them.
    const torn = Buffer.alloc(18);
    torn.writeUInt32BE(100, 0);
    fs.appendFileSync(seg, torn);
    s = await openSpool();
    expect(s.recovery.truncatedBytes).toBe(18);
    expect(fs.statSync(seg).size).toBe(goodSize);
    await s.append([rec(3)]);
    expect((await readAll(s)).map((e) => e.payload.toString())).toEqual([0, 1, 2, 3].map((i) => rec(i).toString()));
  });

  it('detects a corrupt last record by its CRC and drops it', async () => {
    let s = await openSpool();
    await s.append([rec(0), rec(1)]);
    await closeSpool(s);
    const seg = path.join(dir, segFiles()[0]!);
    const bytes = fs.readFileSync(seg);
    bytes[bytes.length - 1]! ^= 0xff; // last byte of record 1's payload
    fs.writeFileSync(seg, bytes);
    s = await openSpool();
    expect(s.recovery.truncatedBytes).toBe(8 + rec(1).length);
    expect((await readAll(s)).map((e) => e.payload.toString())).toEqual([rec(0).toString()]);
  });

  it('persists the acknowledged position: a reopen returns only unacknowledged records', async () => {
    let s = await openSpool();
    await s.append(Array.from({ length: 10 }, (_, i) => rec(i)));
    expect((await s.read(6)).map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    await s.ack(6);
    expect(s.stats().pendingRecords).toBe(4);
    await closeSpool(s);
    s = await openSpool();
    expect(s.recovery.pendingRecords).toBe(4);
    expect((await readAll(s)).map((e) => [e.seq, e.payload.toString()])).toEqual([6, 7, 8, 9].map((i) => [i, rec(i).toString()]));
    await s.ack(8);
    await s.ack(7); // going back is a no-op
    await closeSpool(s);
    s = await openSpool();
    expect((await readAll(s)).map((e) => e.seq)).toEqual([8, 9]);
    await expect(s.ack(11)).rejects.toThrow(RangeError);
  });

  it('falls back to the older ack slot when the newest one is torn (re-sends, never loses)', async () => {
    let s = await openSpool();
    await s.append(Array.from({ length: 10 }, (_, i) => rec(i)));
    await s.read(10);
    await s.ack(3);
    await s.ack(5); // written to the other slot
    await closeSpool(s);
    const ack = path.join(dir, 'ack.state');
    const bytes = fs.readFileSync(ack);
    const newest = bytes.readBigUInt64BE(0) === 5n ? 0 : 16;
    expect(bytes.readBigUInt64BE(16 - newest)).toBe(3n);
    bytes[newest + 7]! ^= 0x01; // tear the slot holding 5
    fs.writeFileSync(ack, bytes);
    s = await openSpool();
    expect((await readAll(s)).map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects appends beyond maxBytes with SPB_ERR_SPOOL_FULL, writing nothing of them', async () => {
    const s = await openSpool({ maxBytes: 4096, segmentBytes: 1024 });
    const payload = Buffer.alloc(100, 1); // 108 bytes per record on disk
    let accepted = 0;
    let error: unknown;
    for (;;) {
      try {
        await s.append([payload, payload]);
        accepted += 2;
      } catch (err) {
        error = err;
        break;
      }
    }
    expect(isSporbarError(error, 'SPB_ERR_SPOOL_FULL')).toBe(true);
    expect(accepted).toBe(36); // 36 × 108 = 3888 ≤ 4096 < 38 × 108
    expect(s.stats().pendingRecords).toBe(accepted);
    expect(s.stats().diskBytes).toBeLessThanOrEqual(4096);
    // Deliver some: their segments go, and there is room again.
    const first = await s.read(20, Number.MAX_SAFE_INTEGER);
    await s.ack(first.at(-1)!.seq + 1);
    await s.append([payload]);
    expect((await readAll(s)).length).toBe(accepted - 20 + 1);
  });

  it('deletes segments once everything in them is acknowledged', async () => {
    const s = await openSpool({ segmentBytes: 1024 });
    for (let i = 0; i < 10; i++) await s.append(Array.from({ length: 10 }, (_, j) => rec(i * 10 + j, 60)));
    const before = segFiles().length;
    expect(before).toBeGreaterThan(3);
    const part = await s.read(50);
    await s.ack(part.at(-1)!.seq + 1);
    const middle = segFiles().length;
    expect(middle).toBeLessThan(before);
    expect(middle).toBeGreaterThan(0);
    const rest = await readAll(s);
    expect(rest[0]!.seq).toBe(50);
    await s.ack(rest.at(-1)!.seq + 1);
    expect(segFiles()).toEqual([]);
    expect(s.isEmpty).toBe(true);
    expect(s.stats().diskBytes).toBe(0);
    // Appending after a full drain starts a new segment at the next sequence number.
    await s.append([rec(100)]);
    expect(segFiles()).toEqual(['0000000000000100.seg']);
    expect((await s.read(5)).map((e) => e.seq)).toEqual([100]);
  });

  it('refuses a second open of the same directory while the first is open', async () => {
    await openSpool();
    const second = await Spool.open({ dir }).catch((e: unknown) => e);
    expect(isSporbarError(second, 'SPB_ERR_CONFIG')).toBe(true);
  });

  it('takes over a LOCK left by a process that is gone', async () => {
    fs.writeFileSync(path.join(dir, 'LOCK'), '999999999\n');
    const s = await openSpool();
    expect(s.isEmpty).toBe(true);
  });

  it('round-trips 10,000 records (group commit) and ends empty after acknowledging them', async () => {
    let s = await openSpool({ segmentBytes: 64 * 1024 });
    const n = 10_000;
    const t0 = performance.now();
    // 100 waves of 100 concurrent single-record appends: each wave is about one write + fdatasync.
    for (let w = 0; w < n / 100; w++) await Promise.all(Array.from({ length: 100 }, (_, i) => s.append([rec(w * 100 + i, 200)])));
    const ms = performance.now() - t0;
    console.log(`[spool] 10,000 appends in waves of 100 (fdatasync'd): ${ms.toFixed(0)} ms, ${Math.round(n / (ms / 1000))} records/s`);
    expect(segFiles().length).toBeGreaterThan(10);
    await closeSpool(s);
    s = await openSpool({ segmentBytes: 64 * 1024 });
    expect(s.recovery.pendingRecords).toBe(n);
    let next = 0;
    for (;;) {
      const chunk = await s.read(500, 64 * 1024);
      if (chunk.length === 0) break;
      for (const e of chunk) {
        expect(e.seq).toBe(next);
        expect(e.payload.equals(rec(next, 200))).toBe(true);
        next++;
      }
      await s.ack(chunk.at(-1)!.seq + 1);
    }
    expect(next).toBe(n);
    expect(s.isEmpty).toBe(true);
    expect(segFiles()).toEqual([]);
  });
});

describe('createKafkaTransport configuration', () => {
  it('refuses bad configuration with SPB_ERR_CONFIG', () => {
    const base = { brokers: ['127.0.0.1:9092'], spoolDir: '/tmp/x' };
    for (const bad of [
      { ...base, brokers: [] },
      { ...base, brokers: ['no-port'] },
      { ...base, spoolDir: '' },
      { ...base, topic: 'bad topic' },
      { ...base, batchSize: 0 },
      { ...base, lingerMs: -1 },
      { ...base, maxSpoolBytes: 10 },
      { ...base, retry: { retries: 0 } },
      { ...base, compression: 'snappy' as never },
    ]) {
      let err: unknown;
      try {
        createKafkaTransport(bad);
      } catch (e) {
        err = e;
      }
      expect(isSporbarError(err, 'SPB_ERR_CONFIG'), JSON.stringify(bad)).toBe(true);
    }
  });
});
