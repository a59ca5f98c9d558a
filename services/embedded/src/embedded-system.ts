import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp, devPublicKey, storeEntrySource, type AppOptions, type ReadModels } from '@sporbar/access-api';
import { createPgliteEventStore, type EventStore } from '@sporbar/event-store';
import { createIngest, createSqlDeadLetterSink, type IncomingMessage } from '@sporbar/ingest';
import { createInProcessTransport, createProducer, developmentProducerKey, type Producer } from '@sporbar/producer';
import { activePrefix, allProjections, createProjectionRunner, dropReadModelTables, fromPglite, rebuildReadModels, runRetention, type ProjectionRunner, type SqlDatabase } from '@sporbar/projections';
import { createCodec, latestRegister, registerFiles as packagedRegisterFiles, type RegisterFiles } from '@sporbar/schemas';
import { pgliteSqlClient } from '@sporbar/common/sql';
import { createPseudonymiser, developmentProducerRegistry, createSubjectKeyStore, createSubjectOpener, migrateSubjectKeys, parseMasterKey, type Pseudonymiser, type SubjectKeyStore } from '@sporbar/key-store';
import { subjectMapKeys } from '@sporbar/auditor/map';
import { createCheckpointer, createLogService, loadOrCreateCheckpointKey, logOrigin, type LogService } from '@sporbar/auditor';
import { loadOrCreateDevKeys } from './dev-keys.ts';

export interface EmbeddedConfig {
  /** Where PGlite and the dev keys live; undefined = in memory (tests). */
  readonly dataDir?: string;
  readonly logger?: FastifyServerOptions['logger'] | import('fastify').FastifyBaseLogger;
  /** How often a checkpoint is signed when fewer than 1,000 events came in (default 10 s). */
  readonly checkpointEveryMs?: number;
  /** How often the subject map is committed when disclosures wait outside it (default: as checkpoints, 10 s). */
  readonly subjectMapEveryMs?: number;
  /**
   * The register files disclosures are judged by (the version in force at each occurredAt); default the
   * packaged register. Load another directory with `loadRegisterSource` (SPORBAR_REGISTER_DIR).
   */
  readonly registerFiles?: RegisterFiles;
  /**
   * The citizen page's sign-in through an OpenID Connect provider instead of the development sign-in
   * (tests against Keycloak): the issuer and client, and the URL the browser reaches the API at.
   */
  readonly signIn?: Pick<AppOptions, 'oidc' | 'publicUrl'>;
}

export interface EmbeddedSystem {
  readonly app: FastifyInstance;
  readonly producer: Producer;
  readonly store: EventStore;
  readonly db: SqlDatabase;
  readonly runner: ProjectionRunner;
  readonly readModels: ReadModels;
  /** Records RetentionExpired for everything past its retention at `now`; returns how many. */
  runRetention(now?: Date): Promise<number>;
  /** Replays the log into fresh read-model tables and switches the API over; returns the events/s. */
  rebuild(): Promise<{ events: bigint; seconds: number }>;
  readonly pseudonymiser: Pseudonymiser;
  readonly subjectKeys: SubjectKeyStore;
  readonly log: LogService;
  /** The register files disclosures are judged by. */
  readonly registerFiles: RegisterFiles;
  /** Appends RegisterPublished for every version not yet in the log (done at start; again is harmless: the eventIds dedupe). */
  publishRegister(): Promise<{ published: string[]; alreadyInLog: string[] }>;
  /** Signs a checkpoint of everything stored so far (normally every 1,000 events or 10 s). */
  checkpointNow(): Promise<number | undefined>;
  /** Commits the subject map over everything stored so far and waits for a checkpoint covering it (normally every 10 s); the map's tree size. */
  commitSubjectMapNow(): Promise<number | undefined>;
  /** Resolves when the read models reflect everything stored so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole flow in one process: producer SDK → in-process transport → ingest → PGlite event store
 * → projections → fastify. The same modules run apart in production, with Kafka in the middle.
 */
export async function startEmbeddedSystem(config: EmbeddedConfig): Promise<EmbeddedSystem> {
  const registerFiles = config.registerFiles ?? packagedRegisterFiles;
  // Names on the pages: the latest version of every notice (composed and validated, or SPB_ERR_REGISTER_INVALID).
  const register = latestRegister(registerFiles);
  const keysDir = config.dataDir ?? join(tmpdir(), `sporbar-mem-${process.pid}-${Date.now()}`);
  const keys = await loadOrCreateDevKeys(keysDir);
  const pglite = await PGlite.create(config.dataDir ? join(config.dataDir, 'pglite') : undefined);
  const db = fromPglite(pglite);
  const codec = createCodec();
  const store = await createPgliteEventStore({ db: pglite });
  const pseudonymiser = createPseudonymiser(keys.pseudonymKey);
  await migrateSubjectKeys(pgliteSqlClient(pglite));
  const subjectKeys = createSubjectKeyStore({ db: pglite, masterKey: parseMasterKey(keys.masterKey) });
  const ingest = createIngest({
    keys: subjectKeys,
    codec,
    store,
    register: registerFiles,
    pseudonymiser,
    opener: createSubjectOpener(keys.seal.privateKey),
    deadLetters: await createSqlDeadLetterSink(db),
    // The development registry: its keys are public, like every key of the embedded default.
    producers: developmentProducerRegistry(),
  });
  const transport = createInProcessTransport(async (messages) => {
    const incoming: IncomingMessage[] = messages.map((m) => ({ value: m.value, headers: m.headers, origin: 'in-process' }));
    await ingest.handle(incoming);
  });
  // Each writer is its own principal in the producer registry, as in production: the synthetic
  // traffic (embedded-demo), the API's views (sporbar-access-api), the retention worker (sporbar-retention).
  const producerAs = (id: string) => createProducer({ transport, sealPublicKey: keys.seal.publicKey, routingSecret: keys.routingSecret, producerKey: developmentProducerKey(id), codec });
  const producer = producerAs('embedded-demo');
  const views = producerAs('sporbar-access-api');
  const retention = producerAs('sporbar-retention');
  // Every notice version is in the log (RegisterPublished) before the first disclosure is judged by it.
  await ingest.publishRegister();
  const projections = allProjections(registerFiles);
  let prefix = await activePrefix(db);
  const readModels: ReadModels = { db, prefix: () => prefix };
  let runner = createProjectionRunner({ store, db, codec, projections, prefix });
  await runner.start();
  // The Merkle log: signed checkpoints every 1,000 events or 10 s, proofs served by the API.
  const checkpointKey = loadOrCreateCheckpointKey(keysDir);
  const origin = logOrigin('embedded');
  // The subject map (docs/subject-map.md): its key is a dev key like the others.
  const mapKeys = subjectMapKeys(Buffer.from(keys.subjectMapKey, 'base64url'));
  const mapEveryMs = config.subjectMapEveryMs ?? config.checkpointEveryMs ?? 10_000;
  const log = createLogService({ store, codec, publicKey: checkpointKey, origin, subjectMap: { keys: mapKeys } });
  await log.start();
  const checkpointer = createCheckpointer({
    store,
    codec,
    signer: checkpointKey,
    origin,
    ...(config.checkpointEveryMs ? { everyMs: config.checkpointEveryMs } : {}),
    // One map in the process: the checkpointer commits the one the log service keeps and checks.
    subjectMap: { shared: () => log.subjectMapFollower, everyMs: mapEveryMs },
  });
  await checkpointer.start();
  const app = await buildApp({
    log,
    // Auditors' C2SP entry bundles (/v1/audit/tile/entries/*), from the store in process.
    entries: storeEntrySource(store),
    // The in-process store: the citizens' proof downloads read the stored events' bytes from it.
    eventStore: store,
    subjectMapKey: Buffer.from(keys.subjectMapKey, 'base64url'),
    readModels,
    register,
    registerFiles,
    pseudonymiser,
    views,
    subjectKeys,
    jwtPublicKey: devPublicKey(),
    production: false,
    logger: config.logger ?? false,
    ...(config.signIn ?? {}),
  });

  return {
    app,
    producer,
    store,
    db,
    get runner() {
      return runner;
    },
    readModels,
    pseudonymiser,
    subjectKeys,
    log,
    registerFiles,
    publishRegister: () => ingest.publishRegister(),
    checkpointNow: () => checkpointer.checkpointNow(),
    async commitSubjectMapNow() {
      const size = await checkpointer.commitMapNow();
      // …and the log service (its own subscription) has seen the checkpoint covering it: proofs are served.
      const until = Date.now() + 30_000;
      while (size !== undefined && (log.latestCheckpoint()?.treeSize ?? 0) < checkpointer.latestCheckpointSize) {
        if (Date.now() > until) throw new Error('the log service did not see the checkpoint covering the subject map within 30 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      return size;
    },
    runRetention: (now = new Date()) => runRetention(db, retention, now, prefix),
    async rebuild() {
      const result = await rebuildReadModels({ store, db, codec, projections });
      const old = runner;
      runner = result.runner;
      prefix = result.prefix;
      await old.stop();
      await dropReadModelTables(db, projections, result.previous);
      return { events: result.events, seconds: result.seconds };
    },
    async settle() {
      await producer.flush();
      await runner.waitFor(await store.headPosition());
    },
    async close() {
      await app.close();
      await producer.close();
      await checkpointer.stop();
      await log.stop();
      await runner.stop();
      await store.close();
      await pglite.close();
    },
  };
}
