/** Test-side helper for the Kafka global setup (see vitest-global-setup.ts). */
import { inject } from 'vitest';
import './vitest-context.ts';

/**
 * Brokers of the test Kafka: what the global setup provided, else KAFKA_BROKERS, else undefined
 * (no Java/Maven outside CI: skip, e.g. `describe.skipIf(!testKafkaBrokers())`).
 */
export function testKafkaBrokers(): string[] | undefined {
  const provided = inject('kafkaBrokers');
  if (provided && provided.length > 0) return provided;
  const env = process.env.KAFKA_BROKERS?.trim();
  return env ? env.split(',').map((b) => b.trim()).filter(Boolean) : undefined;
}
