/**
 * npm run bench -w @sporbar/producer — the producer SDK → Kafka, side by side in one run with
 *   - the SDK alone (in-process transport: validation, Avro, sealing; no Kafka) — the SDK's CPU limit,
 *   - kafkajs alone with its own encoder, producing the same messages (idempotent, acks=all, 5,000 per send),
 *   - kcat producing the same keys and values to the same broker (acks=all, idempotent) — the transport limit.
 * The rows show events/s and, for the SDK, CPU µs per event (steadier than events/s on a shared machine).
 * Privacy off: pseudonymous subjects, no personal details. Privacy on: a CPR number and personal
 * details (an IP address) sealed per event, as in services/ingest/bench/pipeline.bench.ts.
 *
 * Env: KAFKA_BROKERS (else a broker is started here), BENCH_EVENTS (default 100,000 per row),
 * BENCH_CONCURRENCY (calls outstanding at a time, default 2,000), BENCH_TRANSPORT (extra
 * createKafkaTransport options as JSON, e.g. '{"compression":"gzip"}').
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { generateSealKeyPair } from '@sporbar/key-store/seal';
import { kafkaClientOptions, kafkaClientSettingsFromEnv, librdkafkaProperties, startKafkaBroker } from '../../../infra/kafka/src/index.ts';
import { developmentProducerKey, createInProcessTransport, createKafkaTransport, createProducer, type KafkaTransportOptions, type OutgoingMessage, type Producer } from '../src/index.ts';
import { benchDisclosure as disclosure } from './bench-events.ts';

const N = Number(process.env['BENCH_EVENTS'] ?? 100_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 2000);
const KCAT = '/usr/bin/kcat';
const extra = JSON.parse(process.env['BENCH_TRANSPORT'] ?? '{}') as Partial<KafkaTransportOptions>;
const log = (...a: unknown[]) => console.error('[sdk-bench]', ...a);

// KAFKA_* (plaintext or secured) reuse a running broker; else one is started, secured with KAFKA_SECURE=1.
const external = kafkaClientSettingsFromEnv(process.env);
const broker = external ? null : await startKafkaBroker({ port: 0, name: `sdkbench-${process.pid}`, fresh: true, secure: process.env['KAFKA_SECURE'] === '1' });
const kafkaSettings = external ?? broker!.clientSettings;
const brokers = kafkaSettings.brokers;
const kafkaOptions = kafkaClientOptions(kafkaSettings);
const kafka = new Kafka({ clientId: 'sdkbench', ...kafkaOptions, logLevel: logLevel.NOTHING });
const seal = await generateSealKeyPair();
const routingSecret = randomBytes(32).toString('base64url');
const work = mkdtempSync(join(tmpdir(), 'sdkbench-'));
const run = randomBytes(3).toString('hex');
const topics: string[] = [];

/** Admin calls on a busy shared broker: retried a few times (metadata may lag a topic's creation). */
async function withAdmin<T>(fn: (admin: ReturnType<typeof kafka.admin>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      return await fn(admin);
    } catch (err) {
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await admin.disconnect();
    }
  }
}

async function newTopic(name: string): Promise<string> {
  const topic = `sdkbench-${name}-${run}`;
  topics.push(topic);
  await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true }));
  // Until every partition has a leader in the metadata.
  await withAdmin(async (admin) => {
    const { topics: [t] } = await admin.fetchTopicMetadata({ topics: [topic] });
    if (t?.partitions.length !== 6 || t.partitions.some((p) => p.leader < 0)) throw new Error(`${topic} not ready`);
  });
  return topic;
}

const countIn = (topic: string): Promise<number> => withAdmin(async (admin) => (await admin.fetchTopicOffsets(topic)).reduce((s, x) => s + Number(x.high), 0));

interface Rate {
  /** Events per second, wall clock. */
  readonly rate: number;
  /** CPU time of this process per event (µs): steadier than the rate on a busy machine. */
  readonly cpu: number;
}

/** `n` recordDisclosure calls in index order, at most CONCURRENCY outstanding (a busy service's request handlers), then flush. */
async function drive(producer: Producer, n: number, privacy: boolean): Promise<Rate> {
  let next = 0;
  const worker = async () => {
    while (next < n) await producer.recordDisclosure(disclosure(next++, privacy));
  };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
  await producer.flush();
  const c = process.cpuUsage(c0);
  return { rate: (n / (performance.now() - t0)) * 1000, cpu: (c.user + c.system) / n };
}

const producerOf = (transport: Parameters<typeof createProducer>[0]['transport']) => createProducer({ transport, sealPublicKey: seal.publicKey, routingSecret, producerKey: developmentProducerKey('mitid-core') });

async function sdkToKafka(privacy: boolean): Promise<Rate> {
  const topic = await newTopic(privacy ? 'on' : 'off');
  const spoolDir = mkdtempSync(join(work, 'spool-'));
  const transport = createKafkaTransport({ ...kafkaOptions, topic, spoolDir, ...extra });
  const producer = producerOf(transport);
  await drive(producer, 1000, privacy); // connect and warm up (counted in the topic below)
  const rate = await drive(producer, N, privacy);
  const stats = transport.stats();
  await producer.close();
  const count = await countIn(topic);
  if (count !== N + 1000) throw new Error(`SDK: ${count} of ${N + 1000} events in ${topic}`);
  if (stats.spooled !== 0) log(`note: ${stats.spooled} events went through the spool`);
  return rate;
}

/** The SDK with an in-process transport that accepts at once: what the SDK costs before any transport. */
async function sdkOnly(privacy: boolean): Promise<Rate & { messages: OutgoingMessage[] }> {
  const messages: OutgoingMessage[] = [];
  const producer = producerOf(createInProcessTransport(async (m) => void messages.push(...m)));
  await drive(producer, 1000, privacy);
  messages.length = 0;
  return { ...(await drive(producer, N, privacy)), messages };
}

/** kafkajs itself (no SDK, no spool) producing the captured messages in batches of 5,000, idempotent, acks=all. */
async function kafkajsRaw(name: string, messages: readonly OutgoingMessage[], compression: CompressionTypes): Promise<number> {
  const topic = await newTopic(name);
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await p.connect();
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += 5000) {
    await p.send({ topic, acks: -1, compression, messages: messages.slice(i, i + 5000).map((m) => ({ key: m.key, value: m.value, headers: m.headers })) });
  }
  const rate = (messages.length / (performance.now() - t0)) * 1000;
  await p.disconnect();
  if ((await countIn(topic)) !== messages.length) throw new Error('kafkajs raw: wrong count');
  return rate;
}

/** kcat producing the same keys and values (headers left out: kcat -P takes them per run, not per message). */
function kcat(name: string, messages: readonly OutgoingMessage[], codec: string): Promise<number> | null {
  if (!existsSync(KCAT)) return null;
  const delim = Buffer.from([0xfe, 0xff, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8]);
  const keyDelim = Buffer.from([0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xff, 0xfe]);
  if (messages.some((m) => m.value.includes(delim) || m.value.includes(keyDelim))) throw new Error('delimiter occurs in a message');
  const file = join(work, `${name}.bin`);
  writeFileSync(file, Buffer.concat(messages.flatMap((m) => [Buffer.from(m.key), keyDelim, m.value, delim])));
  const hex = (b: Buffer) => [...b].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join('');
  return (async () => {
    const topic = await newTopic(name);
    const t0 = performance.now();
    const kcatConfig = join(work, 'kcat.properties');
    writeFileSync(kcatConfig, librdkafkaProperties(kafkaSettings), { mode: 0o600 });
    execFileSync(KCAT, ['-F', kcatConfig, '-P', '-b', brokers.join(','), '-t', topic, '-D', hex(delim), '-K', hex(keyDelim), '-z', codec, '-X', 'acks=all', '-X', 'enable.idempotence=true', '-l', file], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const rate = (messages.length / (performance.now() - t0)) * 1000;
    const count = await countIn(topic);
    if (count !== messages.length) throw new Error(`kcat produced ${count} of ${messages.length}`);
    return rate;
  })();
}

type Row = { path: string; off: number | string; on: number | string; note: string };
const fmt = (x: number | string) => (typeof x === 'number' ? Math.round(x).toLocaleString('en-US') : x);
const cpu = (off: Rate, on: Rate) => `CPU ${off.cpu.toFixed(1)} / ${on.cpu.toFixed(1)} µs per event`;

try {
  const compression = extra.compression ?? 'none';
  const kjsCompression = compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  log(`${N} events per row, ${CONCURRENCY} calls outstanding, brokers ${brokers.join(',')}, transport options ${JSON.stringify(extra)}`);
  log('SDK → Kafka, privacy off ...');
  const off = await sdkToKafka(false);
  log('SDK → Kafka, privacy on ...');
  const on = await sdkToKafka(true);
  log('SDK only (in-process transport) ...');
  const onlyOff = await sdkOnly(false);
  const onlyOn = await sdkOnly(true);
  log('kafkajs alone ...');
  const rawOff = await kafkajsRaw('kafkajs-off', onlyOff.messages, kjsCompression);
  const rawOn = await kafkajsRaw('kafkajs-on', onlyOn.messages, kjsCompression);
  log('kcat ...');
  const kOff = await kcat('kcat-off', onlyOff.messages, compression);
  const kOn = kOff === null ? null : await kcat('kcat-on', onlyOn.messages, compression);
  const avg = (ms: OutgoingMessage[]) => Math.round(ms.reduce((s, m) => s + m.value.length + m.key.length + JSON.stringify(m.headers).length, 0) / ms.length);
  const rows: Row[] = [
    { path: 'SDK → Kafka (createProducer + createKafkaTransport)', off: off.rate, on: on.rate, note: `resolved = acknowledged (acks=all, idempotent); ${cpu(off, on)}` },
    { path: 'SDK only, in-process transport (no Kafka)', off: onlyOff.rate, on: onlyOn.rate, note: `validation + Avro + sealing; ${cpu(onlyOff, onlyOn)}` },
    { path: 'kafkajs alone (its own encoder), same messages, 5,000 per send', off: rawOff, on: rawOn, note: 'idempotent, acks=all: the unpatched library' },
    kOff === null
      ? { path: 'kcat → Kafka, same keys and values', off: 'skipped', on: 'skipped', note: `${KCAT} is not installed` }
      : { path: 'kcat → Kafka, same keys and values', off: kOff, on: kOn!, note: `no headers, -z ${compression}, acks=all, idempotent; SDK = ${(off.rate / kOff).toFixed(2)}× / ${(on.rate / kOn!).toFixed(2)}× kcat` },
  ];
  console.log(`\nProducer SDK → Kafka, ${N.toLocaleString('en-US')} events per cell, ${CONCURRENCY} calls outstanding, compression ${compression}, ~${avg(onlyOff.messages)} / ~${avg(onlyOn.messages)} bytes per message (off / on)\n`);
  console.log('| path | privacy off (events/s) | privacy on (events/s) | note |');
  console.log('|---|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.path} | ${fmt(r.off)} | ${fmt(r.on)} | ${r.note} |`);
} finally {
  await withAdmin((admin) => admin.deleteTopics({ topics })).catch(() => undefined);
  await broker?.stop();
  if (broker) rmSync(broker.runDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
