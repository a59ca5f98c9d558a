import type { Kafka } from 'kafkajs';

/** Creates the disclosures topic and its dead-letter topic if they do not exist yet. */
export async function ensureTopics(kafka: Kafka, topics: ReadonlyArray<{ topic: string; numPartitions: number }>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ ...t, replicationFactor: 1 })) });
    }
  } finally {
    await admin.disconnect();
  }
}
