import kafkajs from 'kafkajs';
import { kafkaClientOptions, type KafkaClientTarget } from './client-settings.ts';

const { Kafka, logLevel } = kafkajs;

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
}

/** `name:partitions` (partitions default 1) → a TopicSpec; throws on anything else. */
export function parseTopicSpec(text: string): TopicSpec {
  const m = /^([A-Za-z0-9._-]{1,249}):?([0-9]{1,4})?$/.exec(text);
  const partitions = m?.[2] === undefined ? 1 : Number(m[2]);
  if (!m || partitions < 1) throw new Error(`topic "${text}": use <name>[:<partitions>] with letters, digits, '.', '_', '-' and 1-9999 partitions`);
  return { topic: m[1]!, partitions };
}

/**
 * Creates the topics that do not exist yet (as the target's admin: on a secured cluster nobody else
 * has Create) and returns which were created and which were already there. A topic that exists with
 * fewer partitions is left alone: partitions are never changed here.
 */
export async function ensureTopics(target: KafkaClientTarget, specs: readonly TopicSpec[]): Promise<{ created: string[]; existing: string[] }> {
  const kafka = new Kafka({ clientId: 'sporbar-kafka-infra-topics', ...kafkaClientOptions(target), logLevel: logLevel.NOTHING, connectionTimeout: 5000 });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !present.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({ waitForLeaders: true, topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.partitions })) }); // replication: the cluster's default.replication.factor
    }
    return { created: missing.map((s) => s.topic), existing: specs.filter((s) => present.has(s.topic)).map((s) => s.topic) };
  } finally {
    await admin.disconnect();
  }
}
