// Type of what the Kafka global setup provides. Imported (for its side effect on types) by
// vitest-global-setup.ts and vitest.ts, so `inject('kafkaBrokers')` is typed in consumers.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap addresses of the test Kafka; undefined when no broker could be started (tests should skip). */
    kafkaBrokers?: string[];
  }
}
export {};
