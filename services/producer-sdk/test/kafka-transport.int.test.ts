// The Kafka transport against a real Kafka 3.9 broker (started here, because one test SIGKILLs it).
// Without Java (or Maven and no cached jars) the broker tests skip, except under CI=true, where they fail.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { generateSealKeyPair } from '@sporbar/key-store/seal';
import { checkPrerequisites, getFreePort, kafkaClientOptions, kafkaJarsPresent, startKafkaBroker, type KafkaBroker } from '../../../infra/kafka/src/index.ts';
import { developmentProducerKey, createKafkaTransport, createProducer, FlushTimeoutError, Spool, TransportClosedError, type KafkaTransport, type TransportLogger } from '../src/index.ts';
import { fastProduceRequests } from '../src/kafka-fast-produce.ts';
import { analyse, consumeAll, createTopic, secureTestBroker, waitFor } from './helpers/kafka.ts';
import { makeMessage, sendRange } from './helpers/messages.ts';

const pre = checkPrerequisites();
const canStartBroker = pre.java && (pre.maven || kafkaJarsPresent());
const ci = process.env.CI === 'true';
if (!canStartBroker && !ci) console.warn('[producer-sdk] java (or mvn with no cached Kafka jars) not found: skipping the Kafka broker tests');

const tmpDirs: string[] = [];
const spoolDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sporbar-kt-'));
  tmpDirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A logger that keeps every record, to check that no key or value ever reaches a log. */
function capturingLogger(): TransportLogger & { records: unknown[] } {
  const records: unknown[] = [];
  const keep = (level: string) => (obj: object, msg?: string) => void records.push({ level, ...obj, msg });
  return { records, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

describe.skipIf(!canStartBroker && !ci)('Kafka transport against a real broker', () => {
  let broker: KafkaBroker;
  const transports: KafkaTransport[] = [];
  const track = (t: KafkaTransport) => (transports.push(t), t);

  beforeAll(async () => {
    if (!canStartBroker) throw new Error('CI=true but java (or mvn with no cached Kafka jars) is missing: the Kafka tests cannot run');
    const t0 = Date.now();
    broker = await startKafkaBroker({ port: 0, name: `producer-sdk-${process.pid}`, fresh: true, secure: secureTestBroker });
    expect(broker.secure).toBe(secureTestBroker);
    console.log(`[kafka-transport] broker ${broker.brokers.join(',')} ${broker.secure ? 'secured (TLS, SCRAM, ACLs)' : 'plaintext'} in ${Date.now() - t0} ms`);
  }, 120_000);

  afterAll(async () => {
    for (const t of transports) await t.close({ timeoutMs: 1000 }).catch(() => undefined);
    if (broker) {
      await broker.stop();
      fs.rmSync(broker.runDir, { recursive: true, force: true });
    }
  }, 60_000);

  // Every test twice: with kafka-fast-produce.ts encoding the requests, and with kafkajs' own encoder
  // (the optimisation must not be what makes the transport correct).
  describe.each([true, false])('fastEncoder: %s', (fastEncoder) => {
    const tag = fastEncoder ? '' : ' (kafkajs encoder)';

    it('(a) delivers 5,000 messages exactly once each, in order per key', async () => {
      const topic = await createTopic(broker);
      const runId = randomUUID();
      const transport = track(createKafkaTransport({ fastEncoder, ...kafkaClientOptions(broker), topic, spoolDir: spoolDir() }));
      expect(transport.fastEncoder).toBe(fastEncoder);
      const fastBefore = fastProduceRequests();
      const t0 = performance.now();
      await sendRange(transport, runId, 0, 5000, 1000);
      await transport.flush({ timeoutMs: 30_000 });
      const ms = performance.now() - t0;
      console.log(`[kafka-transport${tag}] 5,000 messages acknowledged by Kafka in ${ms.toFixed(0)} ms (${Math.round(5000 / (ms / 1000))}/s)`);
      expect(transport.stats()).toMatchObject({ deliveredDirect: 5000, spooled: 0, sendFailures: 0, mode: 'direct' });
      // With the fast encoder kafkajs took it for these requests; without, kafkajs' own encoder did every one.
      if (fastEncoder) expect(fastProduceRequests()).toBeGreaterThan(fastBefore);
      else expect(fastProduceRequests()).toBe(fastBefore);

      const consumed = await consumeAll(broker, topic);
      const r = analyse(consumed);
      expect(consumed.length).toBe(5000);
      expect(r).toMatchObject({ unique: 5000, duplicates: 0, orderViolations: 0, partitionsPerKey: 1 });
      expect(new Set(consumed.map((c) => c.partition)).size).toBe(6);
      await transport.close();
    }, 90_000);

    it('compression gzip: delivers exactly once each, in order per key', async () => {
      const topic = await createTopic(broker);
      const runId = randomUUID();
      const transport = track(createKafkaTransport({ fastEncoder, ...kafkaClientOptions(broker), topic, spoolDir: spoolDir(), compression: 'gzip' }));
      await sendRange(transport, runId, 0, 3000, 500);
      await transport.flush({ timeoutMs: 30_000 });
      expect(transport.stats()).toMatchObject({ deliveredDirect: 3000, spooled: 0, sendFailures: 0 });
      const r = analyse(await consumeAll(broker, topic));
      expect(r).toMatchObject({ unique: 3000, duplicates: 0, orderViolations: 0, partitionsPerKey: 1 });
      await transport.close();
    }, 60_000);

    it('(b) broker SIGKILLed: 20,000 sends are spooled, then delivered in order when it is back', async () => {
      const topic = await createTopic(broker);
      const runId = randomUUID();
      const logger = capturingLogger();
      const transport = track(createKafkaTransport({ fastEncoder, ...kafkaClientOptions(broker), topic, spoolDir: spoolDir(), logger, backoff: { initialMs: 100, maxMs: 1000 } }));
      await sendRange(transport, runId, 0, 100, 100); // connected and warm
      await transport.flush();
      expect(transport.stats().deliveredDirect).toBe(100);

      await broker.kill();
      global.gc?.();
      const rssBefore = process.memoryUsage.rss();
      let rssMax = rssBefore;
      const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 20);
      const t0 = performance.now();
      let accepted: number;
      try {
        accepted = await sendRange(transport, runId, 100, 20_100, 500);
      } finally {
        clearInterval(sampler);
      }
      const spoolMs = performance.now() - t0;
      const s = transport.stats();
      console.log(
        `[kafka-transport] broker down: 20,000 sends accepted into the spool in ${spoolMs.toFixed(0)} ms (${Math.round(20_000 / (spoolMs / 1000))}/s incl. failure detection); ` +
          `RSS ${(rssBefore / 2 ** 20).toFixed(0)} → max ${(rssMax / 2 ** 20).toFixed(0)} MiB; spool ${(s.spoolDiskBytes / 2 ** 20).toFixed(1)} MiB`,
      );
      expect(accepted).toBe(20_000);
      expect(s).toMatchObject({ mode: 'spool', spooled: 20_000, spoolPendingRecords: 20_000, deliveredDirect: 100 });
      expect(rssMax - rssBefore).toBeLessThan(128 * 2 ** 20);

      await broker.restart();
      await waitFor(() => transport.stats().drained > 0, { timeoutMs: 30_000, what: 'the drainer to deliver its first chunk' });
      const d0 = { t: performance.now(), n: transport.stats().drained };
      await transport.flush({ timeoutMs: 60_000 });
      const drainMs = performance.now() - d0.t;
      console.log(`[kafka-transport${tag}] drained ${20_000 - d0.n} spooled messages in ${drainMs.toFixed(0)} ms (${Math.round((20_000 - d0.n) / (drainMs / 1000))}/s)`);
      expect(transport.stats()).toMatchObject({ mode: 'direct', drained: 20_000, spoolPendingRecords: 0 });

      // After the outage, sends go straight to Kafka again.
      await sendRange(transport, runId, 20_100, 20_200, 100);
      await transport.flush({ timeoutMs: 10_000 });
      expect(transport.stats().deliveredDirect).toBe(200);

      const consumed = await consumeAll(broker, topic);
      const r = analyse(consumed);
      console.log(`[kafka-transport${tag}] consumed ${consumed.length} records: ${r.unique} unique, ${r.duplicates} duplicates`);
      expect(r.unique).toBe(20_200);
      expect(r.orderViolations).toBe(0);
      expect(r.partitionsPerKey).toBe(1);
      // Duplicates can only come from a batch the broker wrote but did not acknowledge; none was in flight here.
      expect(r.duplicates).toBe(0);

      const logged = JSON.stringify(logger.records);
      expect(logger.records.length).toBeGreaterThan(0);
      expect(logged).not.toContain('subject-');
      expect(logged).not.toContain(runId);
      await transport.close();
    }, 150_000);

    it('(e) broker SIGKILLed mid-stream, with a batch in flight: nothing accepted is lost, order holds', async () => {
      const topic = await createTopic(broker);
      const runId = randomUUID();
      const transport = track(createKafkaTransport({ fastEncoder, ...kafkaClientOptions(broker), topic, spoolDir: spoolDir(), backoff: { initialMs: 100, maxMs: 1000 } }));
      const sending = sendRange(transport, runId, 0, 30_000, 500);
      await waitFor(() => transport.stats().deliveredDirect >= 5000, { timeoutMs: 30_000, what: '5,000 direct deliveries' });
      await broker.kill();
      expect(await sending).toBe(30_000);
      const s = transport.stats();
      expect(s.mode).toBe('spool');
      expect(s.deliveredDirect + s.spooled).toBe(30_000);
      await broker.restart();
      await transport.flush({ timeoutMs: 60_000 });
      const r = analyse(await consumeAll(broker, topic));
      console.log(`[kafka-transport${tag}] mid-stream kill: ${s.deliveredDirect} sent directly, ${s.spooled} spooled; consumed ${r.unique} unique, ${r.duplicates} duplicates`);
      expect(r.unique).toBe(30_000);
      expect(r.orderViolations).toBe(0);
      // Bound: at most the one batch in flight when the broker died (batchSize 500). The idempotent
      // producer normally turns its resend into a no-op, so this is expected to be 0.
      expect(r.duplicates).toBeLessThanOrEqual(500);
      await transport.close();
    }, 120_000);

    it('carries the producer SDK: recorded events reach Kafka, and Producer.close() flushes first', async () => {
      const topic = await createTopic(broker);
      const keys = await generateSealKeyPair();
      const producer = createProducer({
        transport: track(createKafkaTransport({ fastEncoder, ...kafkaClientOptions(broker), topic, spoolDir: spoolDir() })),
        sealPublicKey: keys.publicKey,
        routingSecret: randomBytes(32).toString('base64url'),
        producerKey: developmentProducerKey('mitid-core'),
      });
      const recorded = await Promise.all(
        Array.from({ length: 50 }, (_, n) =>
          producer.recordDisclosure({
            subject: { cpr: n % 2 ? '150872-3341' : '010203-1234' },
            activity: 'mitid-core',
            recipient: { id: 'mitid-broker', role: 'SUB_PROCESSOR' },
            purpose: 'mitid-issuance-administration-use',
            legalBases: ['GDPR_ART6_1_E'],
            dataCategories: ['authentication-response'],
          }),
        ),
      );
      await producer.close();
      const consumed = await consumeAll(broker, topic);
      expect(new Set(consumed.map((c) => c.eventId))).toEqual(new Set(recorded.map((r) => r.eventId)));
      expect(new Set(consumed.map((c) => c.key)).size).toBe(2); // one partition key per subject
    }, 60_000);

    it('(c) a producer process killed with a non-empty spool: the next process delivers the rest', async () => {
      const topic = await createTopic(broker);
      const runId = randomUUID();
      const dir = spoolDir();
      const deadBroker = `127.0.0.1:${await getFreePort()}`; // the child can never reach Kafka: it only spools
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'spool-writer.ts')], {
        env: { ...process.env, BROKERS: deadBroker, TOPIC: topic, SPOOL_DIR: dir, COUNT: '20000', RUN_ID: runId, FAST_ENCODER: String(fastEncoder) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let reported = 0;
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/accepted (\d+)/g)) reported = Math.max(reported, Number(m[1]));
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        await waitFor(() => reported >= 3000 || child.exitCode !== null, { timeoutMs: 60_000, what: 'the child to spool 3,000 messages' });
        expect(child.exitCode, stderr).toBeNull();
      } finally {
        child.kill('SIGKILL'); // a crash, mid-stream: no close(), no flush
        await exited;
      }

      const transport = track(createKafkaTransport({ fastEncoder, ...kafkaClientOptions(broker), topic, spoolDir: dir }));
      const recovery = await transport.ready;
      console.log(`[kafka-transport${tag}] child killed after reporting ${reported} accepted; spool recovered ${recovery.pendingRecords} records (torn tail ${recovery.truncatedBytes} bytes)`);
      expect(recovery.pendingRecords).toBeGreaterThanOrEqual(reported);
      await transport.flush({ timeoutMs: 60_000 });
      await transport.close();

      const r = analyse(await consumeAll(broker, topic));
      // Everything accepted is there, as one unbroken prefix of the send order, once, in order per key.
      expect(r.unique).toBe(recovery.pendingRecords);
      expect(Math.max(...r.ids)).toBe(r.unique - 1);
      expect(r).toMatchObject({ duplicates: 0, orderViolations: 0 });
    }, 120_000);
  });
});

describe('Kafka transport without a reachable broker', () => {
  it('(d) spool full: send() rejects with SPB_ERR_SPOOL_FULL, and everything accepted stays spooled', async () => {
    const dir = spoolDir();
    const transport = createKafkaTransport({ brokers: [`127.0.0.1:${await getFreePort()}`], spoolDir: dir, maxSpoolBytes: 64 * 1024, spoolSegmentBytes: 16 * 1024 });
    const runId = randomUUID();
    let accepted = 0;
    let rejection: unknown;
    for (let i = 0; rejection === undefined && i < 1000; i++) {
      try {
        await transport.send([makeMessage(runId, i)]);
        accepted++;
      } catch (err) {
        rejection = err;
      }
    }
    expect(isSporbarError(rejection, 'SPB_ERR_SPOOL_FULL')).toBe(true);
    expect(accepted).toBeGreaterThan(100);
    expect(transport.stats()).toMatchObject({ mode: 'spool', spooled: accepted, spoolPendingRecords: accepted });
    // Still loud on the next try, not a silent drop.
    await expect(transport.send([makeMessage(runId, accepted + 1)])).rejects.toMatchObject({ code: 'SPB_ERR_SPOOL_FULL' });
    const timedOut = await transport.flush({ timeoutMs: 200 }).catch((err: unknown) => err);
    expect(timedOut).toBeInstanceOf(FlushTimeoutError);
    expect(isSporbarError(timedOut, 'SPB_ERR_FLUSH_TIMEOUT')).toBe(true);
    expect(timedOut).toMatchObject({ pending: accepted, retriable: true });
    await transport.close({ timeoutMs: 200 });
    const afterClose = await transport.send([makeMessage(runId, 0)]).catch((err: unknown) => err);
    expect(afterClose).toBeInstanceOf(TransportClosedError);
    expect(isSporbarError(afterClose, 'SPB_ERR_TRANSPORT_CLOSED')).toBe(true);
    await expect(transport.flush()).rejects.toThrow(/closed/);
    await expect(transport.flush()).rejects.toMatchObject({ code: 'SPB_ERR_TRANSPORT_CLOSED', pending: accepted });

    const spool = await Spool.open({ dir, maxBytes: 64 * 1024 });
    expect(spool.recovery.pendingRecords).toBe(accepted);
    await spool.close();
  }, 30_000);

  it('refuses a message larger than maxMessageBytes before accepting it (SPB_ERR_OVERSIZED)', async () => {
    const transport = createKafkaTransport({ brokers: ['127.0.0.1:1'], spoolDir: spoolDir(), maxMessageBytes: 1000 });
    await expect(transport.send([{ key: 'k', value: Buffer.alloc(2000), headers: {} }])).rejects.toMatchObject({ code: 'SPB_ERR_OVERSIZED' });
    expect(transport.stats().spooled).toBe(0);
    await transport.close({ timeoutMs: 100 });
  });
});
