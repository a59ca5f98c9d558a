/**
 * Vitest global setup that gives a test run a Kafka broker.
 *
 *   // vitest.config.ts of any package
 *   export default defineConfig({ test: { globalSetup: ['@sporbar/kafka-infra/vitest-global-setup'] } });
 *
 *   // in a test
 *   import { testKafkaBrokers } from '@sporbar/kafka-infra/vitest';
 *   const brokers = testKafkaBrokers();           // string[] | undefined (undefined => skip)
 *   // or: inject('kafkaBrokers') / process.env.KAFKA_BROKERS
 *
 * - KAFKA_BROKERS set (comma-separated): use that cluster, start nothing.
 * - otherwise: start a fresh single-node broker on a free port, provide it, stop it (and delete its
 *   run dir, unless KAFKA_KEEP_RUN_DIR=1) in teardown.
 * - java (or, with no cached jars, mvn) missing: throw if CI=true, else print a notice and provide
 *   nothing, so tests can skip.
 */
import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startKafkaBroker, type KafkaBroker } from './broker.ts';
import { kafkaJarsPresent } from './jars.ts';
import { checkPrerequisites } from './prereqs.ts';
import './vitest-context.ts';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) {
    project.provide('kafkaBrokers', external.split(',').map((b) => b.trim()).filter(Boolean));
    return;
  }

  const pre = checkPrerequisites();
  const missing = [!pre.java && 'java', !pre.maven && !kafkaJarsPresent() && 'mvn'].filter(Boolean);
  if (missing.length > 0) {
    const msg = `[kafka-infra] ${missing.join(' and ')} not found: cannot start a Kafka broker for the tests`;
    if (process.env.CI === 'true') throw new Error(`${msg} (CI=true, so this is an error; or set KAFKA_BROKERS)`);
    console.warn(`${msg}; Kafka tests will be skipped (install JDK 17+ and Maven, or set KAFKA_BROKERS).`);
    return;
  }

  const t0 = Date.now();
  const broker: KafkaBroker = await startKafkaBroker({
    port: 0,
    name: `vitest-${process.pid}-${Date.now().toString(36)}`,
    fresh: true,
  });
  console.log(`[kafka-infra] Kafka ${broker.brokers.join(',')} ready in ${Date.now() - t0} ms (log: ${broker.logFile})`);
  project.provide('kafkaBrokers', broker.brokers);
  process.env.KAFKA_BROKERS = broker.brokers.join(',');

  return async () => {
    await broker.stop();
    delete process.env.KAFKA_BROKERS;
    if (process.env.KAFKA_KEEP_RUN_DIR !== '1') fs.rmSync(broker.runDir, { recursive: true, force: true });
  };
}
