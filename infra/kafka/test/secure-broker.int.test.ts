// The secured broker (TLS + SASL/SCRAM-SHA-512 + StandardAuthorizer ACLs) against real kafkajs
// clients: who gets in, and what each principal may and may not do. One broker for the whole file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import kafkajs, { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import {
  createCertificateAuthority,
  kafkaClientOptions,
  provisionKafkaPrincipals,
  randomPassword,
  startKafkaBroker,
  type KafkaBroker,
  type KafkaPrincipalSpec,
} from '../src/index.ts';
import { canRunBroker } from './prereqs.ts';

const TOPIC = 'sporbar.disclosures';
const DLQ = 'sporbar.disclosures.dlq';
const OTHER = 'not.for.producers';
const INGEST_GROUP = 'sporbar-ingest';

const producer = { user: 'producer-mitid', password: randomPassword() };
const ingest = { user: 'sporbar-ingest', password: randomPassword() };
const principals: KafkaPrincipalSpec[] = [
  // Write implies Describe on the topic; since Kafka 3.0 (KIP-679) it also implies IdempotentWrite.
  { ...producer, allow: [{ topic: TOPIC, ops: ['Write'] }] },
  {
    ...ingest,
    allow: [
      { topic: TOPIC, ops: ['Read'] },
      { group: INGEST_GROUP, ops: ['Read'] },
      { topic: DLQ, ops: ['Write'] },
    ],
  },
];

let broker: KafkaBroker;
let startMs = 0;

/**
 * A kafkajs client with short timeouts. Admin calls below run without retries (a refusal is final);
 * consumers keep a few, because the group coordinator is briefly "not available" while the broker
 * creates __consumer_offsets for the first group.
 */
function client(options: Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'>, retry?: KafkaConfig['retry']): Kafka {
  return new Kafka({
    clientId: 'secure-broker-int-test',
    ...options,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    ...(retry ? { retry } : {}),
  });
}
const as = (principal?: { user: string; password: string }) => client(kafkaClientOptions(broker, principal));

/** describeCluster with these connection options, no retries: the cluster id, or the refusal. */
async function describeClusterWith(options: Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'>): Promise<string> {
  const admin = client(options, { retries: 0 }).admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    return (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The broker's authorizer audit line for a refusal (kafka.authorizer.logger, in broker.log). It is
 * written before the refused response is sent, so it is there once the client has seen the error.
 * Needed for group refusals: kafkajs reports those as "Failed to find group coordinator" (its broker
 * pool swallows the broker's GROUP_AUTHORIZATION_FAILED).
 */
function refusalLogged(user: string, operation: string, resource: string): boolean {
  const line = `Principal = User:${user} is Denied operation = ${operation} from host = 127.0.0.1 on resource = ${resource} `;
  return fs.readFileSync(broker.logFile, 'utf8').includes(line);
}

async function produce(kafka: Kafka, topic: string, value: string): Promise<void> {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3 } });
  await p.connect();
  try {
    await p.send({ topic, acks: -1, messages: [{ key: value, value }] });
  } finally {
    await p.disconnect();
  }
}

/**
 * Run a consumer in `groupId` on `topic` from the beginning until the first message arrives (its
 * value) or the consumer crashes (the error; it is not restarted). The 60 s limit only turns a hang
 * into a failure.
 */
async function firstMessageOrCrash(kafka: Kafka, groupId: string, topic: string): Promise<{ value?: string; error?: Error }> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, retry: { retries: 5, restartOnFailure: async () => false } });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    return await new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no message and no crash for ${groupId} on ${topic} within 60 s`)), 60_000);
      consumer.on(consumer.events.CRASH, ({ payload }) => resolve({ error: payload.error }));
      consumer
        .run({ eachMessage: async ({ message }) => resolve({ value: message.value?.toString() ?? '' }) })
        .catch((error: Error) => resolve({ error }));
    });
  } catch (error) {
    return { error: error as Error };
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

describe.skipIf(!canRunBroker())('secured broker: TLS, SASL/SCRAM-SHA-512, ACLs', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    broker = await startKafkaBroker({ port: 0, name: `secure-int-${process.pid}`, fresh: true, secure: { principals } });
    startMs = Date.now() - t0;
    console.log(`secured broker ${broker.brokers.join(',')} healthy, principals created, in ${startMs} ms`);
    const admin = as().admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [TOPIC, DLQ, OTHER].map((topic) => ({ topic, numPartitions: 1 })) });
    } finally {
      await admin.disconnect();
    }
  });

  afterAll(async () => {
    if (!broker) return;
    await broker.stop();
    if (process.env.KAFKA_KEEP_RUN_DIR !== '1') fs.rmSync(broker.runDir, { recursive: true, force: true });
  });

  it('keeps its keys and passwords in 0600 files and hands clients the CA and admin settings', () => {
    expect(broker.secure).toBe(true);
    const tlsFiles = broker.tls!;
    for (const secret of [tlsFiles.caKeyFile, tlsFiles.keyFile, tlsFiles.keystoreFile, path.join(broker.runDir, 'server.properties'), path.join(broker.runDir, 'admin-client.json'), path.join(broker.runDir, 'admin.password')]) {
      expect((fs.statSync(secret).mode & 0o777).toString(8), secret).toBe('600');
    }
    expect(broker.clientSettings).toMatchObject({ brokers: broker.brokers, ssl: { caFile: tlsFiles.caCertFile }, sasl: { mechanism: 'scram-sha-512', username: 'admin' } });
    const options = kafkaClientOptions(broker, producer);
    expect(options.sasl).toEqual({ mechanism: 'scram-sha-512', username: producer.user, password: producer.password });
    expect(options.ssl).toEqual({ ca: [fs.readFileSync(tlsFiles.caCertFile, 'utf8')] });
  });

  describe('who gets in', () => {
    it('lets in a client with the CA and the admin password', async () => {
      await expect(describeClusterWith(kafkaClientOptions(broker))).resolves.toBe(broker.clusterId);
    });

    it('refuses a plaintext client', async () => {
      // The broker expects a TLS ClientHello and drops the connection.
      await expect(describeClusterWith({ brokers: broker.brokers })).rejects.toThrow(/closed connection/i);
    });

    it('refuses a TLS client without credentials', async () => {
      const tlsOnly = { brokers: broker.brokers, ssl: kafkaClientOptions(broker).ssl };
      // Only ApiVersions and the SASL handshake are answered before authentication; Metadata ends the connection.
      await expect(describeClusterWith(tlsOnly)).rejects.toThrow(/closed connection/i);
    });

    it('refuses a wrong password and an unknown user', async () => {
      await expect(describeClusterWith(kafkaClientOptions(broker, { user: producer.user, password: `${producer.password}x` }))).rejects.toThrow(/authentication failed/i);
      await expect(describeClusterWith(kafkaClientOptions(broker, { user: 'nobody-here', password: producer.password }))).rejects.toThrow(/authentication failed/i);
    });

    it('lets a client that trusts another CA fail certificate verification', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sporbar-foreign-ca-'));
      try {
        const foreign = await createCertificateAuthority(dir, 'Some other CA');
        const options = { ...kafkaClientOptions(broker), ssl: { ca: [fs.readFileSync(foreign.caCertFile, 'utf8')] } };
        await expect(describeClusterWith(options)).rejects.toThrow(/certificate/i);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('presents a certificate valid for 127.0.0.1 and localhost, and only those', async () => {
      const ca = fs.readFileSync(broker.tls!.caCertFile, 'utf8');
      const handshake = (servername: string) =>
        new Promise<string | null>((resolve, reject) => {
          const socket = tls.connect({ host: '127.0.0.1', port: broker.port, ca, servername }, () => {
            socket.end();
            resolve(socket.getProtocol());
          });
          socket.once('error', reject);
        });
      await expect(handshake('localhost')).resolves.toBe('TLSv1.3');
      await expect(handshake('kafka.example.org')).rejects.toThrow(/altnames/i);
    });

    it('refuses clients on the controller listener (it wants the broker certificate)', async () => {
      const controller = { ...kafkaClientOptions(broker), brokers: [`127.0.0.1:${broker.controllerPort}`] };
      await expect(describeClusterWith(controller)).rejects.toThrow(/bad certificate|certificate required/i);
    });
  });

  describe('what each principal may do', () => {
    it('producer: writes its topic with an idempotent producer (no IdempotentWrite ACL needed)', async () => {
      await produce(as(producer), TOPIC, 'from-producer');
    });

    it('producer: cannot write another topic', async () => {
      await expect(produce(as(producer), OTHER, 'x')).rejects.toThrow(/not authorized to access topics/i);
      expect(refusalLogged(producer.user, 'DESCRIBE', `Topic:LITERAL:${OTHER}`)).toBe(true);
    });

    it('producer: cannot create topics', async () => {
      const admin = as(producer).admin({ retry: { retries: 0 } });
      await admin.connect();
      try {
        const error = (await admin.createTopics({ topics: [{ topic: 'producer.made.this' }] }).catch((e: unknown) => e)) as {
          errors?: { type: string }[];
        };
        expect(error.errors?.map((e) => e.type)).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
        expect(refusalLogged(producer.user, 'CREATE', 'Topic:LITERAL:producer.made.this')).toBe(true);
      } finally {
        await admin.disconnect();
      }
    });

    it("producer: cannot join the ingest's consumer group", async () => {
      const { error } = await firstMessageOrCrash(as(producer), INGEST_GROUP, TOPIC);
      expect(error?.message).toMatch(/group coordinator/i);
      expect(refusalLogged(producer.user, 'DESCRIBE', `Group:LITERAL:${INGEST_GROUP}`)).toBe(true);
    });

    it('producer: cannot read its topic, even with a group it may use', async () => {
      // An ACL on a probe group (added to the existing user: no password, so no ConfigCommand) gets the
      // consumer past the group check, so the refusal shown is the topic's Read.
      await provisionKafkaPrincipals(broker, [{ user: producer.user, allow: [{ group: 'producer-probe', ops: ['Read'] }] }]);
      const { error } = await firstMessageOrCrash(as(producer), 'producer-probe', TOPIC);
      expect(error?.message).toMatch(/topic authorization failed/i);
      expect(refusalLogged(producer.user, 'READ', `Topic:LITERAL:${TOPIC}`)).toBe(true);
    });

    it('ingest: reads the topic with its group', async () => {
      const { value, error } = await firstMessageOrCrash(as(ingest), INGEST_GROUP, TOPIC);
      expect(error).toBeUndefined();
      expect(value).toBe('from-producer');
    });

    it('ingest: cannot read with another group id', async () => {
      const { error } = await firstMessageOrCrash(as(ingest), 'someone-else', TOPIC);
      expect(error?.message).toMatch(/group coordinator/i);
      expect(refusalLogged(ingest.user, 'DESCRIBE', 'Group:LITERAL:someone-else')).toBe(true);
    });

    it('ingest: writes its dead-letter topic, not the disclosures topic', async () => {
      await produce(as(ingest), DLQ, 'dead-letter');
      await expect(produce(as(ingest), TOPIC, 'forged')).rejects.toThrow(/authorization failed/i);
      expect(refusalLogged(ingest.user, 'WRITE', `Topic:LITERAL:${TOPIC}`)).toBe(true);
    });

    it('admin: creates and deletes topics, reads with any group, sees the ACLs', async () => {
      const kafka = as();
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'admin.scratch', numPartitions: 1 }] });
        await produce(kafka, 'admin.scratch', 'by-admin');
        expect(await firstMessageOrCrash(kafka, 'any-group-at-all', 'admin.scratch')).toEqual({ value: 'by-admin' });
        const { AclResourceTypes, ResourcePatternTypes, AclOperationTypes, AclPermissionTypes } = kafkajs;
        const acls = await admin.describeAcls({
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        });
        const principalsWithAcls = new Set(acls.resources.flatMap((r) => r.acls.map((a) => a.principal)));
        expect(principalsWithAcls).toEqual(new Set([`User:${producer.user}`, `User:${ingest.user}`]));
        await admin.deleteTopics({ topics: ['admin.scratch'] });
      } finally {
        await admin.disconnect();
      }
    });

    it('adds a user to the running broker (ConfigCommand) who then has exactly its ACLs', async () => {
      const late = { user: 'auditor-late', password: randomPassword() };
      const result = await provisionKafkaPrincipals(broker, [{ ...late, allow: [{ topic: TOPIC, ops: ['Describe'] }] }]);
      console.log(`provisioned ${result.users.join(',')} (${result.acls} ACL) on the running broker in ${result.ms} ms`);
      const admin = as(late).admin({ retry: { retries: 0 } });
      await admin.connect();
      try {
        expect((await admin.fetchTopicOffsets(TOPIC)).length).toBe(1);
        await expect(admin.fetchTopicOffsets(OTHER)).rejects.toThrow(/authoriz/i);
        expect(refusalLogged(late.user, 'DESCRIBE', `Topic:LITERAL:${OTHER}`)).toBe(true);
      } finally {
        await admin.disconnect();
      }
    });
  });
});
