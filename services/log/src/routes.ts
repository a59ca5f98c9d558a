import type { FastifyPluginAsync } from 'fastify';
import { SporbarError, isSporbarError } from '@sporbar/common/errors';
// The route schemas carry OpenAPI tags (the app registers @fastify/swagger); this brings its FastifySchema augmentation.
import type {} from '@fastify/swagger';

/**
 * The Merkle log's public face: the checkpoint key, the latest signed checkpoint, inclusion and
 * consistency proofs (one event, or up to 100 in one request). No auth: everything here is hashes
 * and signatures, never personal data.
 *
 * One definition serves both the log service (`sporbar-log`, over the auditor's `createLogService`)
 * and the access API (over the same in process in the embedded default, or over `createLogClient`,
 * the log service's HTTP client, in production). `LogServiceLike` is structural: methods may answer
 * synchronously or with a promise, and throw a SporbarError (SPB_ERR_NOT_FOUND, SPB_ERR_BAD_REQUEST,
 * SPB_ERR_LOG_UNAVAILABLE) for requests they cannot answer.
 */
export interface LogCheckpointLike {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly keyId: string;
  readonly algorithm: string;
  readonly signature: string;
  readonly occurredAt: string;
  readonly eventId: string;
  readonly position: string;
  readonly leafIndex: number;
  /** The signed note; with witnesses, their cosignature lines follow the log's signature (C2SP tlog-cosignature). */
  readonly checkpoint: string;
  /** How the witness policy judges this checkpoint (absent: the log has no witness policy). */
  readonly witnessed?: WitnessedLike;
}

/** A witness policy's verdict on one checkpoint (see `checkCheckpointPolicy` in @sporbar/auditor/note). */
export interface WitnessedLike {
  /** The quorum rule in words, e.g. `2 of 2 of witnesses (datatilsynet, rigsrevisionen)`. */
  readonly quorum: string;
  readonly met: boolean;
  readonly witnesses: ReadonlyArray<{ readonly name: string; readonly status: 'cosigned' | 'absent' | 'invalid'; readonly time?: string; readonly reason?: string }>;
}

type MaybePromise<T> = T | Promise<T>;

export interface InclusionProofLike {
  readonly eventId: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: string;
  readonly rootHash: string;
  readonly proof: readonly string[];
  readonly checkpoint?: string;
}

/** Proofs of several events against one tree size: the latest checkpoint's unless one is asked for. */
export interface InclusionProofsLike {
  /** The latest signed checkpoint (null: none yet). */
  readonly checkpoint: LogCheckpointLike | null;
  /** The tree size the proofs are for (null: no checkpoint yet and none asked for). */
  readonly treeSize: number | null;
  readonly proofs: readonly InclusionProofLike[];
  /** Events not inside that tree (not yet covered by a checkpoint, or not in the log yet), in the order asked. */
  readonly pending: readonly string[];
}

/** At most this many event ids in one batch request (a report's page). */
export const MAX_BATCH = 100;

export interface LogServiceLike {
  publicKey(): MaybePromise<{ publicKeyPem: string; keyId: string; verifierKey: string; origin: string; algorithm: string }>;
  latestCheckpoint(): MaybePromise<LogCheckpointLike | undefined>;
  inclusionProof(eventId: string, treeSize?: number): MaybePromise<InclusionProofLike>;
  /** Several proofs in one call; without it, `inclusionProofsOf` asks one by one. */
  inclusionProofs?(eventIds: readonly string[], treeSize?: number): MaybePromise<InclusionProofsLike>;
  consistencyProof(from: number, to: number): MaybePromise<{ from: number; to: number; fromRoot: string; toRoot: string; proof: string[] }>;
  /** Map proofs for map indexes (64 hex each) at the newest verified subject-map commitment; absent when the log keeps no map. */
  subjectMapProofs?(indexes: readonly string[]): MaybePromise<SubjectMapProofsLike>;
}

/** The answer of POST /v1/log/subject-map/proofs (see `SubjectMapProofsView` in @sporbar/auditor). */
export interface SubjectMapProofsLike {
  readonly commitment: { readonly eventId: string; readonly leafIndex: number; readonly treeSize: number; readonly rootHash: string; readonly event: string };
  readonly proofs: ReadonlyArray<{ readonly index: string; readonly proof: string }>;
}

/** At most this many map indexes in one request (a subject's pseudonyms across key rotations). */
export const MAX_MAP_INDEXES = 16;

/**
 * Inclusion proofs of `eventIds` against `treeSize` (default: the latest checkpoint's): the log's own
 * batch call when it has one, else one call per event. An event the tree does not hold yet is pending;
 * any other failure (a bad size, the log unreachable) is thrown.
 */
export async function inclusionProofsOf(log: LogServiceLike, eventIds: readonly string[], treeSize?: number): Promise<InclusionProofsLike> {
  if (eventIds.length > MAX_BATCH) throw new SporbarError('SPB_ERR_BAD_REQUEST', `at most ${MAX_BATCH} event ids in one request, got ${eventIds.length}`);
  if (log.inclusionProofs) return log.inclusionProofs(eventIds, treeSize);
  const checkpoint = (await log.latestCheckpoint()) ?? null;
  const size = treeSize ?? checkpoint?.treeSize ?? null;
  const proofs: InclusionProofLike[] = [];
  const pending: string[] = [];
  for (const eventId of eventIds) {
    if (size === null) {
      pending.push(eventId);
      continue;
    }
    try {
      proofs.push(await log.inclusionProof(eventId, size));
    } catch (err) {
      // Not in the log yet, or a leaf beyond this tree: the next checkpoint covers it.
      if (isSporbarError(err, 'SPB_ERR_NOT_FOUND') || (isSporbarError(err, 'SPB_ERR_BAD_REQUEST') && /not inside a tree/.test(err.message))) pending.push(eventId);
      else throw err;
    }
  }
  return { checkpoint, treeSize: size, proofs, pending };
}

export interface LogRoutesOptions {
  readonly log: LogServiceLike;
  /** The C2SP tlog-policy (text) checkpoints are judged by: served at GET /v1/log/policy when given. */
  readonly policy?: string;
}

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const B64_HASH = { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' } as const;
const SIZE = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const errorSchema = { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
const errors = { 400: errorSchema, 404: errorSchema } as const;

const checkpointSchema = {
  type: 'object',
  required: ['treeSize', 'rootHash', 'keyId', 'algorithm', 'signature', 'occurredAt', 'eventId', 'position', 'leafIndex', 'checkpoint'],
  additionalProperties: false,
  properties: {
    treeSize: SIZE,
    rootHash: B64_HASH,
    keyId: { type: 'string', pattern: '^[0-9a-f]{8}$' },
    algorithm: { type: 'string', enum: ['ED25519'] },
    signature: { type: 'string', pattern: '^[A-Za-z0-9+/]{86}==$' },
    occurredAt: { type: 'string', format: 'date-time' },
    eventId: { type: 'string', pattern: UUID },
    position: { type: 'string', pattern: '^[0-9]{1,20}$' },
    leafIndex: SIZE,
    checkpoint: { type: 'string' },
    witnessed: {
      type: 'object',
      required: ['quorum', 'met', 'witnesses'],
      additionalProperties: false,
      properties: {
        quorum: { type: 'string' },
        met: { type: 'boolean' },
        witnesses: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'status'],
            additionalProperties: false,
            properties: { name: { type: 'string' }, status: { type: 'string', enum: ['cosigned', 'absent', 'invalid'] }, time: { type: 'string', format: 'date-time' }, reason: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

const proofList = { type: 'array', maxItems: 64, items: B64_HASH } as const;
const inclusionProofSchema = {
  type: 'object',
  required: ['eventId', 'leafIndex', 'treeSize', 'leafHash', 'rootHash', 'proof'],
  additionalProperties: false,
  properties: { eventId: { type: 'string' }, leafIndex: SIZE, treeSize: SIZE, leafHash: B64_HASH, rootHash: B64_HASH, proof: proofList, checkpoint: { type: 'string' } },
} as const;

/** GET /v1/log/key, /v1/log/checkpoint, /v1/log/proof/inclusion, /v1/log/proof/consistency; POST /v1/log/proof/inclusions (up to 100 events). */
export const logRoutes: FastifyPluginAsync<LogRoutesOptions> = async (app, { log, policy }) => {
  // Same error shape as the app's handler, so the plugin answers alike when mounted on its own.
  app.setErrorHandler((error, _request, reply) => {
    if (isSporbarError(error)) return reply.status(error.statusCode).send({ code: error.code, message: error.message });
    const e = error as { validation?: unknown; statusCode?: number; message: string };
    if (e.validation || (e.statusCode !== undefined && e.statusCode < 500)) return reply.status(400).send({ code: 'SPB_ERR_BAD_REQUEST', message: e.message });
    return reply.status(500).send({ code: 'SPB_ERR_INTERNAL', message: 'internal error' });
  });

  app.get(
    '/v1/log/key',
    {
      schema: {
        tags: ['log'],
        response: {
          200: {
            type: 'object',
            required: ['publicKeyPem', 'keyId', 'verifierKey', 'origin', 'algorithm'],
            additionalProperties: false,
            properties: { publicKeyPem: { type: 'string' }, keyId: { type: 'string', pattern: '^[0-9a-f]{8}$' }, verifierKey: { type: 'string', pattern: '^[\\x21-\\x7e]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$' }, origin: { type: 'string' }, algorithm: { type: 'string', enum: ['ED25519'] } },
          },
        },
      },
    },
    async () => log.publicKey(),
  );

  if (policy !== undefined) {
    app.get(
      '/v1/log/policy',
      { schema: { tags: ['log'], description: 'The C2SP tlog-policy checkpoints are judged by here: the log\'s key, the witnesses\' keys, the quorum.', response: { 200: { type: 'string' } } } },
      async (_request, reply) => reply.type('text/plain; charset=utf-8').header('cache-control', 'public, max-age=60').send(policy),
    );
  }

  app.get('/v1/log/checkpoint', { schema: { tags: ['log'], response: { 200: checkpointSchema, ...errors } } }, async () => {
    const latest = await log.latestCheckpoint();
    if (!latest) throw new SporbarError('SPB_ERR_NOT_FOUND', 'no signed checkpoint yet');
    return latest;
  });

  app.get<{ Querystring: { eventId: string; treeSize?: number } }>(
    '/v1/log/proof/inclusion',
    {
      schema: {
        tags: ['log'],
        querystring: {
          type: 'object',
          required: ['eventId'],
          additionalProperties: false,
          properties: { eventId: { type: 'string', pattern: UUID }, treeSize: { ...SIZE, minimum: 1 } },
        },
        response: { 200: inclusionProofSchema, ...errors },
      },
    },
    async (request) => log.inclusionProof(request.query.eventId, request.query.treeSize),
  );

  app.post<{ Body: { eventIds: string[]; treeSize?: number } }>(
    '/v1/log/proof/inclusions',
    {
      schema: {
        tags: ['log'],
        description: `Inclusion proofs of up to ${MAX_BATCH} events (a report's page) in one request, against \`treeSize\` or the latest checkpoint; events the tree does not hold yet are listed as pending.`,
        body: {
          type: 'object',
          required: ['eventIds'],
          additionalProperties: false,
          properties: { eventIds: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: { type: 'string', pattern: UUID } }, treeSize: { ...SIZE, minimum: 1 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['checkpoint', 'treeSize', 'proofs', 'pending'],
            additionalProperties: false,
            properties: {
              checkpoint: { anyOf: [checkpointSchema, { type: 'null' }] },
              treeSize: { anyOf: [SIZE, { type: 'null' }] },
              proofs: { type: 'array', maxItems: MAX_BATCH, items: inclusionProofSchema },
              pending: { type: 'array', maxItems: MAX_BATCH, items: { type: 'string' } },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => inclusionProofsOf(log, request.body.eventIds, request.body.treeSize),
  );

  if (log.subjectMapProofs) {
    const subjectMapProofs = log.subjectMapProofs.bind(log);
    app.post<{ Body: { indexes: string[] } }>(
      '/v1/log/subject-map/proofs',
      {
        schema: {
          tags: ['log'],
          description:
            "Subject-map proofs (docs/subject-map.md) for up to 16 map indexes at the newest map commitment a verified checkpoint covers: the commitment's leaf (index, stored bytes) and, per index, its map proof (member: count, chain head, salt; or absent). A map index is a keyed hash only the operator's services can compute from a pseudonym; 404 while no commitment is covered or when the log keeps no map.",
          body: {
            type: 'object',
            required: ['indexes'],
            additionalProperties: false,
            properties: { indexes: { type: 'array', minItems: 1, maxItems: MAX_MAP_INDEXES, items: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
          },
          response: {
            200: {
              type: 'object',
              required: ['commitment', 'proofs'],
              additionalProperties: false,
              properties: {
                commitment: {
                  type: 'object',
                  required: ['eventId', 'leafIndex', 'treeSize', 'rootHash', 'event'],
                  additionalProperties: false,
                  properties: { eventId: { type: 'string', pattern: UUID }, leafIndex: SIZE, treeSize: SIZE, rootHash: B64_HASH, event: { type: 'string', maxLength: 1024 } },
                },
                proofs: {
                  type: 'array',
                  maxItems: MAX_MAP_INDEXES,
                  items: { type: 'object', required: ['index', 'proof'], additionalProperties: false, properties: { index: { type: 'string', pattern: '^[0-9a-f]{64}$' }, proof: { type: 'string', maxLength: 16384 } } },
                },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => subjectMapProofs(request.body.indexes),
    );
  }

  app.get<{ Querystring: { from: number; to?: number } }>(
    '/v1/log/proof/consistency',
    {
      schema: {
        tags: ['log'],
        querystring: { type: 'object', required: ['from'], additionalProperties: false, properties: { from: SIZE, to: SIZE } },
        response: {
          200: {
            type: 'object',
            required: ['from', 'to', 'fromRoot', 'toRoot', 'proof'],
            additionalProperties: false,
            properties: { from: SIZE, to: SIZE, fromRoot: B64_HASH, toRoot: B64_HASH, proof: proofList },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      let to = request.query.to;
      if (to === undefined) {
        const latest = await log.latestCheckpoint();
        if (!latest) throw new SporbarError('SPB_ERR_NOT_FOUND', 'no signed checkpoint yet');
        to = latest.treeSize;
      }
      return log.consistencyProof(request.query.from, to);
    },
  );
};
