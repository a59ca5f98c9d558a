import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance } from 'fastify';
import { createPgliteEventStore, type EventStore } from '@sporbar/event-store';
import { activePrefix, allProjections, createProjectionRunner, fromPglite, type ProjectionRunner } from '@sporbar/projections';
import { createCodec, register, type DisclosureRecorded } from '@sporbar/schemas';
import { createCheckpointer, createLogService, generateSigningKey, logOrigin, type Checkpointer, type LogService } from '@sporbar/auditor';
import { createCosigner, formatPolicy, parseNote, type Cosigner } from '@sporbar/auditor/note';
import type { LogCheckpointLike, LogServiceLike } from '@sporbar/log/routes';
import { buildApp, devPublicKey, devToken, type ViewSink } from '../src/index.ts';
import { pseudonymiser } from './helpers.ts';

/**
 * A real system for the proof downloads, in process: a PGlite event store holding disclosures of two
 * citizens, the projections (real read models), the auditor's checkpointer and log service, and the
 * access API over them. The log's checkpoints are published with the cosignatures of real cosigners
 * (`createCosigner`, Ed25519 cosignature/v1): what a log with witnesses serves at /v1/log/checkpoint,
 * done here by `witnessedLog` because submitting to witnesses is the log service's own concern.
 */
export const codec = createCodec();

/** The witnesses' names as a witness policy uses them. */
export const WITNESS_NAMES = ['datatilsynet', 'rigsrevisionen'] as const;

/** A LogServiceLike publishing `log`'s checkpoints with `cosigners`' cosignature lines appended (one timestamp per tree size). */
export function witnessedLog(log: LogServiceLike, cosigners: readonly Cosigner[]): LogServiceLike {
  const cosigned = new Map<number, string>();
  const publish = <T extends LogCheckpointLike | null | undefined>(cp: T): T => {
    if (!cp) return cp;
    let note = cosigned.get(cp.treeSize);
    if (!note) {
      const text = parseNote(cp.checkpoint).text;
      const time = BigInt(Math.floor(Date.now() / 1000));
      note = cp.checkpoint + cosigners.map((c) => `${c.cosign(text, time)}\n`).join('');
      cosigned.set(cp.treeSize, note);
    }
    return { ...cp, checkpoint: note };
  };
  return {
    publicKey: () => log.publicKey(),
    latestCheckpoint: async () => publish(await log.latestCheckpoint()),
    inclusionProof: (eventId, treeSize) => log.inclusionProof(eventId, treeSize),
    inclusionProofs: async (eventIds, treeSize) => {
      const r = await log.inclusionProofs!(eventIds, treeSize);
      return { ...r, checkpoint: publish(r.checkpoint) };
    },
    consistencyProof: (from, to) => log.consistencyProof(from, to),
  };
}

export interface ProofSystem {
  readonly app: FastifyInstance;
  readonly store: EventStore;
  readonly pglite: PGlite;
  readonly log: LogService;
  readonly origin: string;
  /** The log's C2SP verifier key (GET /v1/log/key's verifierKey). */
  readonly logVkey: string;
  readonly cosigners: readonly Cosigner[];
  /** The witness policy the API serves (both witnesses must cosign). */
  readonly policy: string;
  /** Event ids of each citizen's disclosures, oldest first. */
  readonly mine: string[];
  readonly others: string[];
  readonly tokenMine: string;
  readonly tokenOther: string;
  /** Appends one more disclosure of the first citizen (not yet in a checkpoint) and lets the read models see it. */
  addUncovered(): Promise<string>;
  /** Signs a checkpoint of everything stored and waits until the log serves it. */
  checkpoint(): Promise<number>;
  close(): Promise<void>;
}

export const CPR_MINE = '150377-2814';
export const CPR_OTHER = '020202-4242';

function disclosureOf(cpr: string, flowIndex: number, at: Date): DisclosureRecorded {
  const activity = register.activities.find((a) => a.id === 'nemkonto-register')!;
  const flow = activity.flows[flowIndex % activity.flows.length]!;
  return {
    eventId: randomUUID(),
    occurredAt: at.getTime() * 1000,
    sourceSystem: 'nemkonto',
    controllerCvr: '34051178',
    activity: activity.id,
    subject: { scheme: 'PSEUDONYM', value: pseudonymiser.pseudonym(cpr) },
    recipient: { id: flow.recipientId, role: flow.roles[0]! },
    purpose: flow.purposeIds[0]!,
    legalBases: [...flow.legalBases],
    dataCategories: [...flow.categoryIds],
    transfer: null,
    personalDetails: null,
    correlationId: `payment-${flowIndex}`,
  } as DisclosureRecorded;
}

/** Starts the system with `count` disclosures of each citizen, interleaved, all covered by one signed checkpoint. */
export async function startProofSystem(options: { count?: number; views?: ViewSink } = {}): Promise<ProofSystem> {
  const count = options.count ?? 3;
  const pglite = await PGlite.create();
  const store = await createPgliteEventStore({ db: pglite });
  const db = fromPglite(pglite);
  const prefix = await activePrefix(db);
  const runner: ProjectionRunner = createProjectionRunner({ store, db, codec, projections: allProjections(register), prefix });
  await runner.start();
  const key = generateSigningKey();
  const origin = logOrigin('proof-test');
  const checkpointer: Checkpointer = createCheckpointer({ store, codec, signer: key, origin, everyMs: 3_600_000, everyEvents: 1_000_000 });
  await checkpointer.start();
  const log = createLogService({ store, codec, publicKey: key, origin });
  await log.start();
  const cosigners = WITNESS_NAMES.map((name) => createCosigner(name, generateKeyPairSync('ed25519').privateKey));
  const logVkey = log.publicKey().verifierKey;
  const policy = formatPolicy({ logs: [{ vkey: logVkey }], witnesses: cosigners.map((c) => ({ name: c.name, vkey: c.vkey })) });

  const mine: string[] = [];
  const others: string[] = [];
  const append = async (cpr: string, i: number) => {
    const d = disclosureOf(cpr, i, new Date(Date.UTC(2026, 9, 1 + i, 9, cpr === CPR_MINE ? 0 : 30)));
    await store.append(`subject-${d.subject.value}`, [{ eventId: d.eventId, type: 'DisclosureRecorded', data: codec.encode('DisclosureRecorded', d), metadata: { classification: 'declared', producer: 'nemkonto' } }]);
    return d.eventId;
  };
  const settle = async () => runner.waitFor(await store.headPosition());
  for (let i = 0; i < count; i++) {
    mine.push(await append(CPR_MINE, i));
    others.push(await append(CPR_OTHER, i));
  }
  await settle();

  const waitForLog = async (size: number) => {
    const until = Date.now() + 10_000;
    while ((log.latestCheckpoint()?.treeSize ?? 0) < size) {
      if (Date.now() > until) throw new Error(`the log service did not serve a checkpoint of size ${size}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const checkpoint = async () => {
    const size = await checkpointer.checkpointNow();
    if (size === undefined) throw new Error('nothing to checkpoint');
    await waitForLog(size);
    return size;
  };
  await checkpoint();

  const views: ViewSink = options.views ?? { recordReportViewed: async () => undefined };
  const app = await buildApp({
    readModels: { db, prefix: () => prefix },
    register,
    pseudonymiser,
    views,
    jwtPublicKey: devPublicKey(),
    production: false,
    log: witnessedLog(log, cosigners),
    eventStore: store,
    witnessPolicy: policy,
  });
  let extra = 100;
  return {
    app,
    store,
    pglite,
    log,
    origin,
    logVkey,
    cosigners,
    policy,
    mine,
    others,
    tokenMine: devToken({ role: 'citizen', sub: 'citizen-mine', cpr: CPR_MINE }),
    tokenOther: devToken({ role: 'citizen', sub: 'citizen-other', cpr: CPR_OTHER }),
    async addUncovered() {
      const id = await append(CPR_MINE, extra++);
      await settle();
      return id;
    },
    checkpoint,
    async close() {
      await app.close();
      await checkpointer.stop();
      await log.stop();
      await runner.stop();
      await store.close();
      await pglite.close();
    },
  };
}
