// The fast Produce encoder must write exactly the bytes kafkajs' own encoder writes, and the fast
// partitioner must pick exactly the partitions kafkajs' DefaultPartitioner picks.
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { CompressionTypes, Partitioners, type PartitionMetadata } from 'kafkajs';
import { crc32c, FastKeyPartitioner, fastMessage, installFastProduce, murmur2, originalProduceRequest, fastProduceRequests } from '../src/kafka-fast-produce.ts';

const require = createRequire(import.meta.url);
const Long = require('kafkajs/src/utils/long') as { fromString(s: string): object };
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (k: string | Buffer) => number;
const produceProtocol = (require('kafkajs/src/protocol/requests/produce') as { protocol(a: { version: number }): (args: unknown) => { request: { apiVersion: number; encode(): Promise<{ buffer: Buffer }> } } }).protocol;

const headers = (i: number) => ({ 'sporbar-event-type': i % 3 ? 'DisclosureRecorded' : 'ConsentGiven', 'sporbar-fingerprint': randomBytes(8).toString('hex'), 'sporbar-event-id': randomUUID() });

function topicData(partitions: number, perPartition: (p: number) => number, t0: number) {
  let n = 0;
  return [
    {
      topic: 'sporbar.disclosures',
      partitions: Array.from({ length: partitions }, (_, partition) => ({
        partition,
        firstSequence: partition * 1000 + 7,
        messages: Array.from({ length: perPartition(partition) }, () => {
          const i = n++;
          const key = i % 5 === 0 ? `ǿ-nøgle-${i}` : randomBytes(12).toString('base64url');
          const value = randomBytes(i % 7 === 0 ? 0 : 50 + ((i * 37) % 900));
          // Out of order, some far apart (spooled for hours), some equal.
          return fastMessage(key, value, i % 11 === 0 ? {} : headers(i), t0 + ((i * 7919) % 5000) * (i % 13 === 0 ? 3_600_000 : 1));
        }),
      })),
    },
  ];
}

describe('fast Produce encoder', () => {
  it('installs into kafkajs 2.2.4', () => {
    expect(installFastProduce()).toBe(true);
    expect(installFastProduce()).toBe(true);
  });

  for (const [name, compression] of [
    ['uncompressed', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
  ] as const) {
    it(`writes the same bytes as kafkajs, ${name}, Produce v3 to v7`, async () => {
      installFastProduce();
      const t0 = Date.now();
      for (const [parts, per] of [
        [1, () => 1],
        [6, (p: number) => 1 + p * 40],
        [3, (p: number) => (p === 1 ? 700 : 3)],
      ] as const) {
        const transactional = parts === 3; // also: a 64-bit producer id as kafkajs' Long, a transactional id
        const producerId = transactional ? Long.fromString('9007199254740993') : '4711';
        const args = { acks: -1, timeout: 5000, compression, producerId, producerEpoch: 3, transactionalId: transactional ? 'tx-1' : undefined, topicData: topicData(parts, per, t0) };
        for (let v = 3; v <= 7; v++) {
          const before = fastProduceRequests();
          const fast = produceProtocol({ version: v })(args).request;
          expect(fastProduceRequests()).toBe(before + 1);
          expect(fast.apiVersion).toBe(v);
          const own = originalProduceRequest(v)!(args);
          expect(own.apiVersion).toBe(v);
          const a = (await fast.encode()).buffer;
          const b = ((await own.encode()) as { buffer: Buffer }).buffer;
          expect(a.length).toBe(b.length);
          expect(a.equals(b)).toBe(true);
        }
      }
    });
  }

  it('leaves other messages to kafkajs', async () => {
    installFastProduce();
    const before = fastProduceRequests();
    const args = { acks: -1, timeout: 5000, compression: 0, topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: [{ key: 'k', value: Buffer.from('v'), headers: { h: 'x' }, timestamp: '1763880000000' }] }] }] };
    const req = produceProtocol({ version: 7 })(args).request;
    expect(fastProduceRequests()).toBe(before);
    expect((await req.encode()).buffer.equals(((await originalProduceRequest(7)!(args as never).encode()) as { buffer: Buffer }).buffer)).toBe(true);
  });
});

describe('fast partitioner and checksums', () => {
  it('crc32c equals kafkajs crc32C', () => {
    const big = randomBytes(70_000);
    for (const size of [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 1000, 65_537]) {
      for (let offset = 0; offset < 8; offset++) {
        const b = big.subarray(offset, offset + size); // every alignment of the word-wise loop
        expect(crc32c(b)).toBe(kafkajsCrc32c(b) >>> 0);
        const start = Math.min(size, 3);
        expect(crc32c(b, start)).toBe(kafkajsCrc32c(b.subarray(start)) >>> 0);
        expect(crc32c(b, start, Math.max(start, size - 5))).toBe(kafkajsCrc32c(b.subarray(start, Math.max(start, size - 5))) >>> 0);
      }
    }
  });

  it('murmur2 and the partition equal kafkajs DefaultPartitioner (the Java client mapping)', () => {
    const theirs = Partitioners.DefaultPartitioner();
    const ours = FastKeyPartitioner();
    for (let i = 0; i < 5000; i++) {
      const key = i % 10 === 0 ? `ключ-${i}-ø` : i % 101 === 0 ? 'k'.repeat(200 + i) : randomBytes(i % 40).toString(i % 2 ? 'base64url' : 'hex');
      expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      const partitions = 1 + (i % 17);
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 1 }) as PartitionMetadata);
      const message = { key, value: Buffer.alloc(1) };
      expect(ours({ topic: 't', partitionMetadata, message })).toBe(theirs({ topic: 't', partitionMetadata, message }));
    }
  });
});
