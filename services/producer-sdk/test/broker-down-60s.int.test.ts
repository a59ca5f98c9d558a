// The SDK with the broker down for a full minute: every event is accepted into the spool with
// memory bounded, and all are delivered after recovery, in order per subject, none twice.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPrerequisites, kafkaClientOptions, kafkaJarsPresent, startKafkaBroker, type KafkaBroker } from '../../../infra/kafka/src/index.ts';
import { createKafkaTransport } from '../src/index.ts';
import { analyse, consumeAll, createTopic, secureTestBroker, waitFor } from './helpers/kafka.ts';
import { sendRange } from './helpers/messages.ts';

const pre = checkPrerequisites();
const canStartBroker = pre.java && (pre.maven || kafkaJarsPresent());
const ci = process.env.CI === 'true';
const DOWN_MS = Number(process.env['SPORBAR_BROKER_DOWN_MS'] ?? 60_000);
// SPORBAR_FAST_ENCODER=false runs it with kafkajs' own encoder (the transport must not depend on kafka-fast-produce.ts).
const fastEncoder = process.env['SPORBAR_FAST_ENCODER'] !== 'false';

describe.skipIf(!canStartBroker && !ci)(`broker down for 60 s (fastEncoder: ${fastEncoder})`, () => {
  let broker: KafkaBroker | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sporbar-down-'));
  afterAll(async () => {
    await broker?.stop().catch(() => undefined);
    if (broker) fs.rmSync(broker.runDir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('spools everything sent while it is away, memory bounded, then delivers all in order per subject', async () => {
    if (!canStartBroker) throw new Error('CI=true but java (or mvn with no cached Kafka jars) is missing');
    broker = await startKafkaBroker({ port: 0, name: `down-60s-${process.pid}`, fresh: true, secure: secureTestBroker });
    const topic = await createTopic(broker);
    const runId = randomUUID();
    const transport = createKafkaTransport({ fastEncoder, ...kafkaClientOptions(broker), topic, spoolDir: dir, backoff: { initialMs: 200, maxMs: 2000 } });
    await sendRange(transport, runId, 0, 1000, 100);
    await transport.flush({ timeoutMs: 30_000 });

    await broker.kill();
    const started = Date.now();
    let sent = 1000;
    const rss: number[] = [];
    // Keep recording at about 500 events/s for the whole minute the broker is away.
    while (Date.now() - started < DOWN_MS) {
      sent += await sendRange(transport, runId, sent, sent + 250, 50);
      rss.push(process.memoryUsage().rss);
      await new Promise((r) => setTimeout(r, 500));
    }
    const stats = transport.stats();
    expect(stats.mode).not.toBe('direct');
    expect(stats.spooled).toBeGreaterThan(sent - 1000 - 500);
    const growthMb = (Math.max(...rss) - rss[0]!) / 2 ** 20;
    console.log(`[broker-down] ${sent - 1000} events accepted in ${((Date.now() - started) / 1000).toFixed(0)} s with the broker down; RSS ${(rss[0]! / 2 ** 20).toFixed(0)} → max ${(Math.max(...rss) / 2 ** 20).toFixed(0)} MiB`);
    expect(growthMb).toBeLessThan(64);

    await broker.restart();
    await transport.flush({ timeoutMs: 120_000 });
    await waitFor(() => transport.stats().mode === 'direct', { timeoutMs: 60_000, what: 'spool drained' });
    const consumed = await consumeAll(broker, topic, 120_000);
    const r = analyse(consumed);
    expect(r.unique).toBe(sent);
    expect(r.orderViolations).toBe(0);
    expect(r.partitionsPerKey).toBe(1);
    expect(r.duplicates).toBe(0);
    await transport.close();
  }, DOWN_MS + 300_000);
});
