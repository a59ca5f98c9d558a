// Type of what the Kafka global setup provides. Imported (for its side effect on types) by
// vitest-global-setup.ts and vitest.ts, so `inject('kafkaBrokers')` is typed in consumers.
import type { KafkaClientSettings } from './client-settings.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap addresses of the test Kafka; undefined when no broker could be started (tests should skip). */
    kafkaBrokers?: string[];
    /**
     * How to reach the test Kafka: `{ brokers }` for a plaintext broker; for a secured one (KAFKA_SECURE=1,
     * or KAFKA_CA_FILE/KAFKA_SASL_* with KAFKA_BROKERS) also the CA file and the admin's SCRAM credentials.
     */
    kafkaClient?: KafkaClientSettings;
  }
}
export {};
