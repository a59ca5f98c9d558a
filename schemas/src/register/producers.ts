/**
 * The producer registry: which operational systems (and which of Sporbar's own principals) may
 * write to the log, how each proves it is the writer (its keys, by key id, so keys can rotate), and
 * what each may write (event types and processing activities of the processing register). Data, not
 * code: a JSON document, checked by `parseProducerRegistry`; `authorize` is the pure decision.
 */
import { SporbarError, type ErrorCode } from '@sporbar/common/errors';
import { EVENT_TYPES, type EventType } from '../generated/events.ts';
import type { RegisterFiles } from './load-register.ts';
import type { ProcessingRegister } from './types.ts';

/** Only Sporbar's own principals (`internal: true`) may be granted these through Kafka. */
export const INTERNAL_EVENT_TYPES: readonly EventType[] = ['CheckpointSigned', 'RegisterPublished', 'ReportViewed', 'SubjectKeyShredded', 'RetentionExpired', 'SubjectMapCommitted'];

/** How a producer's events are authenticated: see docs/architecture.md, "Producer authentication". */
export const PRODUCER_KEY_ALGORITHMS = ['hmac-sha256', 'ed25519'] as const;
export type ProducerKeyAlgorithm = (typeof PRODUCER_KEY_ALGORITHMS)[number];

export type ProducerCredential =
  /** A shared secret (≥ 32 bytes, base64url) the producer and the ingest both hold: the registry file is then a secret. */
  | { readonly keyId: string; readonly algorithm: 'hmac-sha256'; readonly secret: string }
  /** A raw 32-byte Ed25519 public key (base64url): anyone can verify, only the producer can sign. */
  | { readonly keyId: string; readonly algorithm: 'ed25519'; readonly publicKey: string };

export interface ProducerEntry {
  /** e.g. `mitid-core`: what the `sporbar-producer` header names and what the store records with each event. */
  readonly id: string;
  readonly name: string;
  /** Sporbar's own services (access API, retention worker …): the only ones that may be granted INTERNAL_EVENT_TYPES. */
  readonly internal: boolean;
  /** The `sourceSystem` values its events may declare; default: its id. */
  readonly sourceSystems: readonly string[];
  readonly keys: readonly ProducerCredential[];
  readonly eventTypes: readonly EventType[];
  /** Processing activities (the register's activity ids) its events may name; `'*'`: every activity (and an erasure of all of them). */
  readonly activities: readonly string[] | '*';
}

export interface ProducerRegistry {
  /** True for the development registry (public keys in the repository): a production service refuses it. */
  readonly development: boolean;
  /**
   * True for an allow-list copy (`allowListOf`): every producer's keys left out, so a program that only
   * decides who may send what (the producer gateway) never holds another producer's secret. The ingest,
   * which verifies authenticators, refuses it.
   */
  readonly keysOmitted?: boolean;
  readonly producers: readonly ProducerEntry[];
}

const ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The activity ids a producer may be allowed: a composed register's activities, or, for register files
 * (what a program runs with: SPORBAR_REGISTER_DIR or the packaged ones), every activity of every notice
 * version, so an activity of an older version is still a valid id. Pure.
 */
export function registerActivityIds(register: ProcessingRegister | RegisterFiles): ReadonlySet<string> {
  if ('versions' in register) return new Set(register.versions.flatMap((v) => v.file.activities.map((a) => a.id)));
  return new Set(register.activities.map((a) => a.id));
}

/**
 * Checks a registry document (parsed JSON) and returns it typed; every problem is listed at once in
 * one SPB_ERR_CONFIG, each with its path. With `register`, activity ids must be the register's
 * (`registerActivityIds`: with register files, those of any notice version).
 */
export function parseProducerRegistry(doc: unknown, register?: ProcessingRegister | RegisterFiles): ProducerRegistry {
  const problems: string[] = [];
  const bad = (path: string, what: string): void => void problems.push(`${path}: ${what}`);
  const activityIds = register ? registerActivityIds(register) : undefined;
  const producers: ProducerEntry[] = [];
  const keysOmitted = isObject(doc) && doc['keysOmitted'] === true;
  if (!isObject(doc)) bad('$', 'must be an object');
  else {
    for (const k of Object.keys(doc)) if (!['producers', 'development', 'keysOmitted', '$comment'].includes(k)) bad(`$.${k}`, 'unknown field');
    if (doc['development'] !== undefined && typeof doc['development'] !== 'boolean') bad('$.development', 'must be a boolean');
    if (doc['keysOmitted'] !== undefined && typeof doc['keysOmitted'] !== 'boolean') bad('$.keysOmitted', 'must be a boolean');
    if (!Array.isArray(doc['producers'])) bad('$.producers', 'must be an array');
    const seen = new Set<string>();
    ((Array.isArray(doc['producers']) ? doc['producers'] : []) as unknown[]).forEach((p, i) => {
      const at = `$.producers[${i}]`;
      if (!isObject(p)) return bad(at, 'must be an object');
      for (const k of Object.keys(p)) if (!['id', 'name', 'internal', 'sourceSystems', 'keys', 'eventTypes', 'activities'].includes(k)) bad(`${at}.${k}`, 'unknown field');
      const id = p['id'];
      if (typeof id !== 'string' || !ID.test(id)) bad(`${at}.id`, 'must be a kebab-case id');
      else if (seen.has(id)) bad(`${at}.id`, `duplicate producer id ${id}`);
      else seen.add(id);
      if (typeof p['name'] !== 'string' || p['name'].trim() === '') bad(`${at}.name`, 'must be a non-empty string');
      const internal = p['internal'] ?? false;
      if (typeof internal !== 'boolean') bad(`${at}.internal`, 'must be a boolean');
      const sources = p['sourceSystems'] ?? [id];
      if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string' || !ID.test(s))) bad(`${at}.sourceSystems`, 'must be an array of kebab-case ids');
      const keys: ProducerCredential[] = [];
      if (keysOmitted) {
        if (p['keys'] !== undefined && !(Array.isArray(p['keys']) && p['keys'].length === 0)) bad(`${at}.keys`, 'must be absent or empty in an allow-list (keysOmitted)');
      } else if (!Array.isArray(p['keys']) || p['keys'].length === 0) bad(`${at}.keys`, 'must be a non-empty array');
      const keyIds = new Set<string>();
      ((Array.isArray(p['keys']) ? p['keys'] : []) as unknown[]).forEach((k, j) => {
        const kat = `${at}.keys[${j}]`;
        if (!isObject(k)) return bad(kat, 'must be an object');
        const keyId = k['keyId'];
        if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) return bad(`${kat}.keyId`, 'must be 1-32 of A-Z a-z 0-9 . _ -');
        if (keyIds.has(keyId)) return bad(`${kat}.keyId`, `duplicate key id ${keyId}`);
        keyIds.add(keyId);
        if (k['algorithm'] === 'hmac-sha256') {
          const secret = k['secret'];
          if (typeof secret !== 'string' || !B64URL.test(secret) || Buffer.from(secret, 'base64url').length < 32) return bad(`${kat}.secret`, 'must be ≥ 32 bytes, base64url');
          for (const f of Object.keys(k)) if (!['keyId', 'algorithm', 'secret'].includes(f)) bad(`${kat}.${f}`, 'unknown field');
          keys.push({ keyId, algorithm: 'hmac-sha256', secret });
        } else if (k['algorithm'] === 'ed25519') {
          const publicKey = k['publicKey'];
          if (typeof publicKey !== 'string' || !B64URL.test(publicKey) || Buffer.from(publicKey, 'base64url').length !== 32) return bad(`${kat}.publicKey`, 'must be a raw 32-byte Ed25519 public key, base64url');
          for (const f of Object.keys(k)) if (!['keyId', 'algorithm', 'publicKey'].includes(f)) bad(`${kat}.${f}`, 'unknown field');
          keys.push({ keyId, algorithm: 'ed25519', publicKey });
        } else bad(`${kat}.algorithm`, `must be one of ${PRODUCER_KEY_ALGORITHMS.join(', ')}`);
      });
      const types = p['eventTypes'];
      if (!Array.isArray(types) || types.length === 0) bad(`${at}.eventTypes`, 'must be a non-empty array');
      const eventTypes: EventType[] = [];
      ((Array.isArray(types) ? types : []) as unknown[]).forEach((t, j) => {
        if (typeof t !== 'string' || !(EVENT_TYPES as readonly string[]).includes(t)) return bad(`${at}.eventTypes[${j}]`, `not an event type: ${String(t)}`);
        if (internal !== true && INTERNAL_EVENT_TYPES.includes(t as EventType)) return bad(`${at}.eventTypes[${j}]`, `${t} comes only from Sporbar's own principals (internal: true)`);
        eventTypes.push(t as EventType);
      });
      const acts = p['activities'];
      if (acts !== '*' && (!Array.isArray(acts) || acts.some((a) => typeof a !== 'string'))) bad(`${at}.activities`, "must be an array of activity ids or '*'");
      else if (Array.isArray(acts) && activityIds) acts.forEach((a: string, j) => void (activityIds.has(a) || bad(`${at}.activities[${j}]`, `not an activity of the processing register: ${a}`)));
      if (problems.length === 0) {
        producers.push({
          id: id as string,
          name: p['name'] as string,
          internal: internal as boolean,
          sourceSystems: [...(sources as string[])],
          keys,
          eventTypes,
          activities: acts === '*' ? '*' : [...(acts as string[])],
        });
      }
    });
  }
  if (problems.length > 0) throw new SporbarError('SPB_ERR_CONFIG', `the producer registry is not valid: ${problems.join('; ')}`, { details: { problems } });
  return { development: isObject(doc) && doc['development'] === true, keysOmitted, producers };
}

/** The registry's allow-lists without any key (a JSON document `parseProducerRegistry` reads back with `keysOmitted`). */
export function allowListOf(registry: ProducerRegistry): Record<string, unknown> {
  return {
    $comment: 'The producer registry without keys: who may send which event types and activities. For the producer gateway; the ingest needs the registry with keys.',
    development: registry.development,
    keysOmitted: true,
    producers: registry.producers.map(({ keys: _keys, ...entry }) => ({ ...entry, activities: entry.activities === '*' ? '*' : [...entry.activities] })),
  };
}

export type Authorization = { readonly ok: true; readonly producer: ProducerEntry } | { readonly ok: false; readonly code: ErrorCode; readonly reason: string };

/** Producer id → entry, remembered per registry (the ingest asks once per event). */
const indexes = new WeakMap<ProducerRegistry, ReadonlyMap<string, ProducerEntry>>();
export function findProducer(registry: ProducerRegistry, producerId: string): ProducerEntry | undefined {
  let index = indexes.get(registry);
  if (index === undefined) indexes.set(registry, (index = new Map(registry.producers.map((p) => [p.id, p]))));
  return index.get(producerId);
}

/**
 * May this producer send this event type for this activity? `activity` is the event's processing
 * activity, null for events without one (ReportViewed …) and for an erasure of every activity,
 * which needs `activities: '*'`. Pure.
 */
export function authorize(registry: ProducerRegistry, producerId: string, eventType: string, activity: string | null): Authorization {
  const producer = findProducer(registry, producerId);
  if (!producer) return { ok: false, code: 'SPB_ERR_UNKNOWN_PRODUCER', reason: `producer ${JSON.stringify(producerId)} is not in the producer registry` };
  if (!(producer.eventTypes as readonly string[]).includes(eventType)) {
    return { ok: false, code: 'SPB_ERR_NOT_ALLOWED', reason: `producer ${producerId} may not send ${eventType}` };
  }
  if (producer.activities !== '*') {
    if (activity === null && (eventType === 'ErasureRequested' || eventType === 'RetentionExpired')) {
      return { ok: false, code: 'SPB_ERR_NOT_ALLOWED', reason: `producer ${producerId} may not send ${eventType} for every activity (only for its own)` };
    }
    if (activity !== null && !producer.activities.includes(activity)) {
      return { ok: false, code: 'SPB_ERR_NOT_ALLOWED', reason: `producer ${producerId} may not send ${eventType} for activity ${activity}` };
    }
  }
  return { ok: true, producer };
}

/** The self-declared `sourceSystem` of an event must be one its authenticated producer may declare. */
export function sourceSystemAllowed(producer: ProducerEntry, sourceSystem: string): boolean {
  return producer.sourceSystems.includes(sourceSystem);
}
