/**
 * Vitest global setup that gives a test run a Kafka broker.
 *
 *   // vitest.config.ts of any package
 *   export default defineConfig({ test: { globalSetup: ['@sporbar/kafka-infra/vitest-global-setup'] } });
 *
 *   // in a test
 *   import { testKafkaBrokers, testKafkaClientOptions } from '@sporbar/kafka-infra/vitest';
 *   const brokers = testKafkaBrokers();           // string[] | undefined (undefined => skip)
 *   const kafka = new Kafka({ clientId: 't', ...testKafkaClientOptions()! }); // plaintext or secured
 *   // or: inject('kafkaBrokers') / inject('kafkaClient') / process.env.KAFKA_*
 *
 * - KAFKA_BROKERS set (comma-separated): use that cluster, start nothing; KAFKA_CA_FILE / KAFKA_SSL and
 *   KAFKA_SASL_USERNAME + KAFKA_SASL_PASSWORD(_FILE) describe a secured one (client-settings.ts).
 * - otherwise: start a fresh single-node broker on a free port (secured, with TLS, SCRAM and ACLs, when
 *   KAFKA_SECURE=1), provide it, export it as the KAFKA_* variables (the admin's credentials for a
 *   secured broker), stop it (and delete its run dir, unless KAFKA_KEEP_RUN_DIR=1) in teardown.
 *   Under CI=true the broker is secured unless KAFKA_SECURE=0.
 * - java (or, with no cached jars, mvn) missing: throw if CI=true, else print a notice and provide
 *   nothing, so tests can skip.
 */
import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startKafkaBroker, type KafkaBroker } from './broker.ts';
import { kafkaClientEnv, kafkaClientSettingsFromEnv } from './client-settings.ts';
import { kafkaJarsPresent } from './jars.ts';
import { checkPrerequisites } from './prereqs.ts';
import './vitest-context.ts';

/**
 * Whether the broker the global setup starts is secured: with KAFKA_SECURE=1 (true, yes), and by
 * default under CI=true, since what CI proves is the secured shape (KAFKA_SECURE=0 opts out explicitly).
 */
export function wantsSecureBroker(env: Readonly<Record<string, string | undefined>>): boolean {
  const flag = env['KAFKA_SECURE']?.trim() ?? '';
  return /^(1|true|yes)$/i.test(flag) || (env['CI'] === 'true' && !/^(0|false|no)$/i.test(flag));
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const external = kafkaClientSettingsFromEnv(process.env);
  if (external) {
    project.provide('kafkaBrokers', external.brokers);
    project.provide('kafkaClient', external);
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

  const secure = wantsSecureBroker(process.env);
  const t0 = Date.now();
  const broker: KafkaBroker = await startKafkaBroker({
    port: 0,
    name: `vitest-${process.pid}-${Date.now().toString(36)}`,
    fresh: true,
    secure,
  });
  console.log(
    `[kafka-infra] Kafka ${broker.brokers.join(',')}${secure ? ' (secured: SASL_SSL, ACLs)' : ''} ready in ` +
      `${Date.now() - t0} ms (log: ${broker.logFile})`,
  );
  project.provide('kafkaBrokers', broker.brokers);
  project.provide('kafkaClient', broker.clientSettings);
  const env = kafkaClientEnv(broker.clientSettings);
  Object.assign(process.env, env);

  return async () => {
    await broker.stop();
    for (const name of Object.keys(env)) delete process.env[name];
    if (process.env.KAFKA_KEEP_RUN_DIR !== '1') fs.rmSync(broker.runDir, { recursive: true, force: true });
  };
}
