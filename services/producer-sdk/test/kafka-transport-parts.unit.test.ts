// The Kafka transport's parts on their own, without a broker: config, batching, the spool drainer, the errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSporbarError, SporbarError } from '@sporbar/common/errors';
import { Batcher, settleItems, type Group, type Item } from '../src/kafka/batcher.ts';
import { transportConfig } from '../src/kafka/config.ts';
import { drainSpool } from '../src/kafka/spool-drainer.ts';
import { consoleLogger, encodeMessage, FlushTimeoutError, silentLogger, Spool, TransportClosedError, type SpooledMessage } from '../src/index.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sporbar-parts-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const message = (i: number, acceptedAt = 0): SpooledMessage => ({ key: `k${i % 3}`, value: Buffer.from(`v${i}`), headers: { n: String(i) }, acceptedAt });

describe('transportConfig', () => {
  it('fills the defaults; fastEncoder on unless switched off', () => {
    const cfg = transportConfig({ brokers: ['k:9092'], spoolDir: '/tmp/x' });
    expect(cfg).toMatchObject({ topic: 'sporbar.disclosures', lingerMs: 5, batchSize: 500, backoffInitialMs: 100, backoffMaxMs: 5000, fastEncoder: true });
    expect(transportConfig({ brokers: ['k:9092'], spoolDir: '/tmp/x', fastEncoder: false }).fastEncoder).toBe(false);
  });

  it.each([
    [{ brokers: [], spoolDir: '/tmp/x' }, /brokers/],
    [{ brokers: ['k:9092'], spoolDir: ' ' }, /spoolDir/],
    [{ brokers: ['k:9092'], spoolDir: '/tmp/x', lingerMs: -1 }, /lingerMs/],
    [{ brokers: ['k:9092'], spoolDir: '/tmp/x', compression: 'zstd' }, /compression/],
    [{ brokers: ['k:9092'], spoolDir: '/tmp/x', fastEncoder: 'yes' }, /fastEncoder/],
    [{ brokers: ['k:9092'], spoolDir: '/tmp/x', retry: { retries: 0 } }, /retries/],
  ])('refuses %j with SPB_ERR_CONFIG', (options, why) => {
    let err: unknown;
    try {
      transportConfig(options as never);
    } catch (e) {
      err = e;
    }
    expect(isSporbarError(err, 'SPB_ERR_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(why);
  });
});

describe('Batcher', () => {
  const group = (n: number, log: string[], name: string): Group => ({ remaining: n, failed: false, resolve: () => log.push(`${name} ok`), reject: () => log.push(`${name} failed`) });

  it('takes batches oldest first, by count and by bytes; lingering decides readiness', () => {
    const b = new Batcher(3, 1024, 10);
    const g = group(5, [], 'g');
    for (let i = 0; i < 5; i++) b.push({ msg: message(i, 100), size: 300, group: g });
    expect(b.ready(100)).toBe(true); // 3 ≥ batchSize
    expect(b.take().map((i) => i.msg.value.toString())).toEqual(['v0', 'v1', 'v2']);
    expect(b.ready(105)).toBe(false); // 2 messages, 600 bytes, lingered 5 of 10 ms
    expect(b.lingerLeft(105)).toBe(5);
    expect(b.ready(110)).toBe(true);
    expect(b.take()).toHaveLength(2);
    expect(b.count).toBe(0);
    const big = new Batcher(100, 1024, 10);
    for (let i = 0; i < 4; i++) big.push({ msg: message(i), size: 400, group: g });
    expect(big.take()).toHaveLength(2); // 800 bytes; a third would exceed 1024
    expect(big.takeAll()).toHaveLength(2);
  });

  it('a send() group rejects at its first error and resolves only when all its messages are through', () => {
    const log: string[] = [];
    const a = group(2, log, 'a');
    const b = group(1, log, 'b');
    const unsettled = new Set([a, b]);
    const items: Item[] = [{ msg: message(0), size: 1, group: a }, { msg: message(1), size: 1, group: b }, { msg: message(2), size: 1, group: a }];
    settleItems(items.slice(0, 1), new Error('x'), unsettled);
    settleItems(items.slice(1), undefined, unsettled);
    expect(log).toEqual(['a failed', 'b ok']);
    expect(unsettled.size).toBe(0);
  });
});

describe('the spool drainer', () => {
  it('retries a failing chunk with backoff (retry() of @sporbar/common), then delivers the spool in order and reports it drained', async () => {
    const spool = await Spool.open({ dir: tmp() });
    await spool.append(Array.from({ length: 7 }, (_, i) => encodeMessage(message(i))));
    const delivered: string[] = [];
    const retries: { attempt: number; retryInMs: number }[] = [];
    let failures = 0;
    let drained = false;
    let calls = 0;
    await drainSpool({
      spool,
      batchSize: 3,
      maxBatchBytes: 1024 * 1024,
      backoff: { initialDelayMs: 1, maxDelayMs: 4 },
      log: { ...silentLogger, warn: (obj) => void retries.push(obj as never), debug: (obj) => void retries.push(obj as never) },
      signal: new AbortController().signal,
      send: async (messages) => {
        if (++calls <= 3) throw Object.assign(new Error('connection refused'), { retriable: true });
        delivered.push(...messages.map((m) => m.value.toString()));
      },
      onFailure: () => void failures++,
      onDrained: () => {
        drained = true;
      },
    });
    expect(delivered).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
    expect(drained).toBe(true);
    expect(failures).toBe(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
    for (const r of retries) expect(r.retryInMs).toBeLessThanOrEqual(4); // capped at maxDelayMs
    expect(spool.isEmpty).toBe(true);
    await spool.close();
  });

  it('reports the spool drained before it reports the delivery of the last chunk (a flush that completes finds direct mode)', async () => {
    const spool = await Spool.open({ dir: tmp() });
    await spool.append(Array.from({ length: 4 }, (_, i) => encodeMessage(message(i))));
    const events: string[] = [];
    await drainSpool({
      spool,
      batchSize: 2,
      maxBatchBytes: 1024 * 1024,
      backoff: { initialDelayMs: 1, maxDelayMs: 1 },
      log: silentLogger,
      signal: new AbortController().signal,
      send: async () => undefined,
      onDelivered: (n) => void events.push(`delivered ${n}`),
      onDrained: () => void events.push('drained'),
    });
    expect(events).toEqual(['delivered 2', 'drained', 'delivered 2']);
    await spool.close();
  });

  it('reads the first chunk at the size it is told (the batch whose direct send failed)', async () => {
    const spool = await Spool.open({ dir: tmp() });
    await spool.append(Array.from({ length: 5 }, (_, i) => encodeMessage(message(i))));
    const chunks: number[] = [];
    let hint: number | undefined = 2;
    await drainSpool({
      spool,
      batchSize: 500,
      maxBatchBytes: 1024 * 1024,
      backoff: { initialDelayMs: 1, maxDelayMs: 1 },
      log: silentLogger,
      signal: new AbortController().signal,
      takeChunkHint: () => {
        const h = hint;
        hint = undefined;
        return h;
      },
      send: async (messages) => void chunks.push(messages.length),
      onDrained: () => undefined,
    });
    expect(chunks).toEqual([2, 3]);
    await spool.close();
  });

  it('stops when its signal aborts, leaving the undelivered chunk in the spool', async () => {
    const spool = await Spool.open({ dir: tmp() });
    await spool.append([encodeMessage(message(0))]);
    const stop = new AbortController();
    let drained = false;
    await drainSpool({
      spool,
      batchSize: 10,
      maxBatchBytes: 1024,
      backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 }, // it is in its wait when the signal aborts
      log: silentLogger,
      signal: stop.signal,
      send: async () => {
        queueMicrotask(() => stop.abort());
        throw Object.assign(new Error('down'), { retriable: true });
      },
      onDrained: () => {
        drained = true;
      },
    });
    expect(drained).toBe(false);
    expect(spool.stats().pendingRecords).toBe(1);
    await spool.close();
  });
});

describe('lifecycle errors are SporbarErrors', () => {
  it('FlushTimeoutError and TransportClosedError: their own class, a registry code, the pending count', () => {
    const t = new FlushTimeoutError(200, 7);
    expect(t).toBeInstanceOf(SporbarError);
    expect(t).toMatchObject({ name: 'FlushTimeoutError', code: 'SPB_ERR_FLUSH_TIMEOUT', retriable: true, statusCode: 503, timeoutMs: 200, pending: 7, details: { timeoutMs: 200, pending: 7 } });
    const c = new TransportClosedError(3);
    expect(c).toBeInstanceOf(SporbarError);
    expect(c).toMatchObject({ name: 'TransportClosedError', code: 'SPB_ERR_TRANSPORT_CLOSED', retriable: false, pending: 3 });
    expect(c.message).toMatch(/closed.*3 events/);
  });

  it('the spool refuses with codes: closed, malformed record, unwritable directory', async () => {
    const spool = await Spool.open({ dir: tmp() });
    await expect(spool.append([Buffer.alloc(0)])).rejects.toMatchObject({ code: 'SPB_ERR_INVALID_MESSAGE' });
    await spool.close();
    await expect(spool.append([Buffer.from('x')])).rejects.toMatchObject({ code: 'SPB_ERR_TRANSPORT_CLOSED' });
    const file = path.join(tmp(), 'a-file');
    fs.writeFileSync(file, '');
    await expect(Spool.open({ dir: path.join(file, 'spool') })).rejects.toMatchObject({ code: 'SPB_ERR_SPOOL_IO', details: { errno: 'ENOTDIR' } });
  });

  it('consoleLogger writes its level and above', () => {
    const seen: string[] = [];
    const original = { info: console.info, debug: console.debug };
    console.info = (msg: string) => void seen.push(`info ${msg}`);
    console.debug = (msg: string) => void seen.push(`debug ${msg}`);
    try {
      const log = consoleLogger('info');
      log.debug({}, 'hidden');
      log.info({}, 'shown');
    } finally {
      Object.assign(console, original);
    }
    expect(seen).toEqual(['info shown']);
  });
});
