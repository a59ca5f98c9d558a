// .ci/run: the broker the KAFKA_* variables describe answers, and it is a secured one (TLS + SCRAM);
// a plaintext one fails the run (CI proves the secured shape).
import { Kafka, logLevel } from 'kafkajs';
import { kafkaClientOptions, kafkaClientSettingsFromEnv } from '@sporbar/kafka-infra';

const settings = kafkaClientSettingsFromEnv(process.env);
if (!settings?.ssl || !settings.sasl) {
  console.error('KAFKA_* do not describe a secured broker (KAFKA_BROKERS, KAFKA_CA_FILE, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD[_FILE])');
  process.exit(1);
}
const admin = new Kafka({ clientId: 'ci-check', ...kafkaClientOptions(settings), logLevel: logLevel.NOTHING }).admin();
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  console.log(`secured broker up: ${cluster.brokers.map((b) => `${b.host}:${b.port}`).join(',')} (TLS, SCRAM as ${settings.sasl.username})`);
} catch (err) {
  console.error(`the secured broker does not answer: ${(err as Error).message}`);
  process.exit(1);
} finally {
  await admin.disconnect().catch(() => undefined);
}
