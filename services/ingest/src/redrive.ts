import type { Kafka } from 'kafkajs';
import { ERROR_CODES, type ErrorCode } from '@sporbar/common/errors';
import { DLQ_HEADER_AT, DLQ_HEADER_ORIGIN, DLQ_HEADER_REASON, DLQ_HEADER_REASON_CODE } from './kafka-dead-letters.ts';

export interface RedriveOptions {
  readonly kafka: Kafka;
  readonly dlqTopic: string;
  readonly topic: string;
  /** Only re-drive letters with this reason code (checked with `checkReasonCode` first). */
  readonly reasonCode?: ErrorCode;
  readonly groupId?: string;
}

/** The answer of `checkReasonCode`: the code, or why it is refused (one line, for the operator). */
export type ReasonCodeCheck = { readonly ok: true; readonly code: ErrorCode } | { readonly ok: false; readonly message: string };

const isErrorCode = (s: string): s is ErrorCode => Object.hasOwn(ERROR_CODES, s);

/**
 * `redrive --reason-code`: a dead letter carries the `code` of the SporbarError that refused it, so
 * only a code of the SPB_ERR_* registry (services/common/src/errors.ts, docs/errors.md) can match one.
 * Anything else would match nothing and re-drive nothing while looking like success, so it is refused
 * before anything is connected to. The message suggests the code meant when only the case or the
 * `SPB_ERR_` prefix differ.
 */
export function checkReasonCode(raw: string): ReasonCodeCheck {
  const given = raw.trim();
  if (isErrorCode(given)) return { ok: true, code: given };
  const normalised = given.toUpperCase().replace(/-/g, '_');
  const guess = [normalised, `SPB_ERR_${normalised}`].find(isErrorCode);
  const hint = guess ? `did you mean ${guess}?` : 'the codes are listed in docs/errors.md';
  return { ok: false, message: `--reason-code ${JSON.stringify(raw)} is not an SPB_ERR_* code of the registry, so no dead letter can carry it: ${hint}` };
}

/**
 * Sends the dead letters that are waiting back to the disclosures topic, after a fix (a schema
 * deployed, a key rotated in). The original bytes go back unchanged; the attempt count travels in
 * a header. Letters that fail again come back to the DLQ with their new reason. Reads up to the
 * high watermark seen at the start, then stops.
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<{ redriven: number; skipped: number }> {
  const { kafka, dlqTopic, topic } = options;
  const admin = kafka.admin();
  await admin.connect();
  const groupId = options.groupId ?? `${dlqTopic}.redrive`;
  const ends = new Map((await admin.fetchTopicOffsets(dlqTopic)).map((p) => [p.partition, BigInt(p.high)]));
  const [committed] = await admin.fetchOffsets({ groupId, topics: [dlqTopic] });
  await admin.disconnect();
  // Partitions with letters this group has not re-driven yet; the run ends when each reaches its end.
  const startOf = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset === '-1' ? 0 : p.offset)]));
  const pending = [...ends].filter(([partition, high]) => high > (startOf.get(partition) ?? 0n)).length;
  const consumer = kafka.consumer({ groupId });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), producer.connect()]);
  let redriven = 0;
  let skipped = 0;
  const done = new Set<number>();
  try {
    await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      if (pending === 0) return resolve();
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const high = ends.get(batch.partition) ?? 0n;
            const wanted = batch.messages.filter((m) => BigInt(m.offset) < high);
            const toSend = wanted.filter((m) => !options.reasonCode || m.headers?.[DLQ_HEADER_REASON_CODE]?.toString() === options.reasonCode);
            skipped += wanted.length - toSend.length;
            if (toSend.length > 0) {
              await producer.send({
                topic,
                acks: -1,
                messages: toSend.map((m) => {
                  const headers = { ...m.headers };
                  for (const h of [DLQ_HEADER_REASON_CODE, DLQ_HEADER_REASON, DLQ_HEADER_ORIGIN, DLQ_HEADER_AT]) delete headers[h];
                  return { key: m.key, value: m.value, headers };
                }),
              });
              redriven += toSend.length;
            }
            const last = wanted.at(-1);
            if (last) await consumer.commitOffsets([{ topic: dlqTopic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
            if (BigInt(batch.messages.at(-1)?.offset ?? -1) + 1n >= high) done.add(batch.partition);
            if (done.size >= pending) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
  return { redriven, skipped };
}
