import type { Producer } from 'kafkajs';
import type { DeadLetter, DeadLetterSink } from './dead-letters.ts';

export const DLQ_HEADER_REASON_CODE = 'sporbar-dlq-reason-code';
export const DLQ_HEADER_REASON = 'sporbar-dlq-reason';
export const DLQ_HEADER_ORIGIN = 'sporbar-dlq-origin';
export const DLQ_HEADER_AT = 'sporbar-dlq-at';
export const DLQ_HEADER_ATTEMPTS = 'sporbar-dlq-attempts';

/**
 * Dead letters on a Kafka topic: the original bytes as the value (so a re-drive sends exactly what
 * the producer sent), the reason in headers. Sent with acks=all before the consumer commits the
 * offset of the bad message, so a bad message is never lost either.
 */
export function createKafkaDeadLetterSink(producer: Producer, topic: string): DeadLetterSink {
  return {
    async put(letters: readonly DeadLetter[]) {
      await producer.send({
        topic,
        acks: -1,
        messages: letters.map((l) => ({
          value: l.original,
          headers: {
            ...l.headers,
            [DLQ_HEADER_REASON_CODE]: l.reasonCode,
            [DLQ_HEADER_REASON]: l.reason,
            [DLQ_HEADER_ORIGIN]: l.origin,
            [DLQ_HEADER_AT]: l.receivedAt.toISOString(),
            [DLQ_HEADER_ATTEMPTS]: String(Number(l.headers[DLQ_HEADER_ATTEMPTS] ?? 0) + 1),
          },
        })),
      });
    },
  };
}
