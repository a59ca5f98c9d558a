import { isSporbarError } from '@sporbar/common/errors';
import { createCache } from '@sporbar/common/cache';
import { REGISTER_STREAM, deterministicUuid, registerPublishedEvents, registerTimeline, toMicros, type Codec, type ProducerRegistry } from '@sporbar/schemas';
import { createProducerVerifier, keyScope } from '@sporbar/key-store';
import type { EventStore } from '@sporbar/event-store';
import type { DeadLetter, DeadLetterSink } from './dead-letters.ts';
import { checkProducerAllowed, dataKeyScopeOf, finishEvent, openEvent, subjectStream, type AfterEffect, type OpenedEvent, type PrepareDeps, type PreparedEvent } from './prepare-event.ts';

export interface IncomingMessage {
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** Where it came from, for dead letters: 'topic/partition/offset' or 'in-process'. */
  readonly origin: string;
}

export interface IngestResult {
  readonly appended: number;
  readonly duplicates: number;
  readonly deadLettered: number;
}

/** Sealed subject envelopes remembered (two generations of this many): see PrepareDeps.sealedSubjects. */
const SEALED_SUBJECT_CACHE = 16_384;

export interface IngestOptions extends PrepareDeps {
  readonly codec: Codec;
  readonly store: EventStore;
  readonly deadLetters: DeadLetterSink;
  /**
   * Who may write, with which keys, what: every message must carry a producer authenticator that
   * verifies against it (docs/architecture.md, "Producer authentication"); anything else is
   * dead-lettered (SPB_ERR_UNKNOWN_PRODUCER, SPB_ERR_BAD_AUTHENTICATOR, SPB_ERR_NOT_ALLOWED).
   */
  readonly producers: ProducerRegistry;
  /**
   * Development only (SPORBAR_INSECURE_NO_PRODUCER_AUTH, refused in production by the configuration):
   * store events without checking an authenticator or the allow-list, and with no `producer` in
   * their metadata. It exists for one purpose: the pipeline bench's authentication-off side.
   */
  readonly unauthenticatedProducers?: boolean;
}

/**
 * The ingest's core, the same behind Kafka and behind the in-process transport: decode, validate,
 * pseudonymise, classify, append with eventId idempotency. Bad input is dead-lettered with its
 * reason; a store failure is thrown, so the caller does not acknowledge (commit the offset of)
 * anything that is not durably stored.
 */
export function createIngest(ingestOptions: IngestOptions) {
  const options: IngestOptions = { ...ingestOptions, sealedSubjects: ingestOptions.sealedSubjects ?? createCache<string, string>(SEALED_SUBJECT_CACHE) };
  const { codec, store, deadLetters, producers } = options;
  const verifyProducer = createProducerVerifier(producers);
  const unauthenticated = ingestOptions.unauthenticatedProducers === true;

  /**
   * Destroys the subject's data key(s) and records each as a SubjectKeyShredded event in the stream of
   * the pseudonym it belonged to: the current one, and for an erasure after a pseudonym key rotation
   * each former one too.
   */
  async function shred(effect: AfterEffect): Promise<void> {
    for (const pseudonym of [effect.pseudonym, ...effect.formerPseudonyms]) await shredUnder({ ...effect, pseudonym });
  }

  async function shredUnder(effect: AfterEffect): Promise<void> {
    const scopes = effect.activity ? [keyScope(effect.pseudonym, effect.activity)] : await options.keys.liveScopes(effect.pseudonym);
    if (effect.cause === 'ERASURE_REQUESTED' && !effect.activity) scopes.push(effect.pseudonym);
    const keyIds = new Set<string>();
    for (const scope of new Set(scopes)) for (const id of await options.keys.shred(scope, effect.cause, { causationEventId: effect.causationEventId })) keyIds.add(id);
    if (keyIds.size === 0) return;
    const now = toMicros();
    await store.append(
      subjectStream(effect.pseudonym),
      [...keyIds].sort().map((keyId) => {
        const eventId = deterministicUuid('SubjectKeyShredded', effect.causationEventId, keyId);
        return {
          eventId,
          type: 'SubjectKeyShredded',
          data: codec.encode('SubjectKeyShredded', {
            eventId,
            occurredAt: now,
            subject: { scheme: 'PSEUDONYM', value: effect.pseudonym },
            keyId,
            cause: effect.cause,
            causationEventId: effect.causationEventId,
          }),
          metadata: { fingerprint: codec.fingerprintHex('SubjectKeyShredded') },
        };
      }),
    );
  }

  return {
    /**
     * Appends RegisterPublished for every notice version of the register files this ingest judges by
     * (run it at start, before handling anything): the eventId comes from the content hashes, so a
     * version already in the log (an earlier start, another ingest) is not stored again. Returns the
     * paths newly published and those already in the log. Nothing with a fixed register (no files).
     */
    async publishRegister(now: Date = new Date()): Promise<{ published: string[]; alreadyInLog: string[] }> {
      const files = registerTimeline(options.register).files;
      if (files === null) return { published: [], alreadyInLog: [] };
      const events = registerPublishedEvents(files, now);
      const result = await store.append(
        REGISTER_STREAM,
        events.map((e) => ({ eventId: e.eventId, type: 'RegisterPublished', data: codec.encode('RegisterPublished', e), metadata: { fingerprint: codec.fingerprintHex('RegisterPublished') } })),
      );
      const fresh = new Set(result.appended.map((id) => id.toLowerCase()));
      const paths = (isNew: boolean) => events.filter((e) => fresh.has(e.eventId.toLowerCase()) === isNew).map((e) => e.path);
      return { published: paths(true), alreadyInLog: paths(false) };
    },

    async handle(messages: readonly IncomingMessage[]): Promise<IngestResult> {
      const letters: DeadLetter[] = [];
      const deadLetter = (m: IncomingMessage, e: unknown): void => {
        if (!isSporbarError(e)) throw e;
        letters.push({ reasonCode: e.code, reason: e.message, original: m.value, headers: m.headers, receivedAt: new Date(), origin: m.origin });
      };
      // Step one for the whole batch (decode, open the sealed subject), then every data key the batch
      // needs in one round trip, then step two (classify, encrypt, re-encode) from the key cache.
      const opened: Array<{ m: IncomingMessage; o: OpenedEvent }> = [];
      for (const m of messages) {
        try {
          if (unauthenticated) {
            opened.push({ m, o: await openEvent(codec.decode(m.value), options, null) });
            continue;
          }
          // Who wrote it, proven over exactly these bytes, before anything is decoded further or stored.
          const producer = verifyProducer(m.value, m.headers);
          const decoded = codec.decode(m.value);
          checkProducerAllowed(producers, producer, decoded);
          opened.push({ m, o: await openEvent(decoded, options, producer) });
        } catch (e) {
          deadLetter(m, e);
        }
      }
      await options.keys.prepare(opened.map(({ o }) => dataKeyScopeOf(o)).filter((s): s is string => s !== null));
      const byStream = new Map<string, PreparedEvent[]>();
      for (const { m, o } of opened) {
        try {
          const prepared = await finishEvent(o, options);
          const list = byStream.get(prepared.streamName) ?? [];
          list.push(prepared);
          byStream.set(prepared.streamName, list);
        } catch (e) {
          deadLetter(m, e);
        }
      }
      // Dead letters first: once the appends succeed the caller acknowledges the whole batch.
      if (letters.length > 0) await deadLetters.put(letters);
      // The whole batch, every subject's stream, in one transaction and one commit.
      const results = await store.appendMany([...byStream].map(([streamName, events]) => ({ streamName, events: events.map((p) => p.event) })));
      const appended = results.reduce((n, r) => n + r.appended.length, 0);
      const duplicates = results.reduce((n, r) => n + r.duplicates.length, 0);
      // Effects run after the cause is durable, and again on re-delivery (duplicates included): the
      // shred is idempotent and the SubjectKeyShredded events have derived ids, so nothing doubles.
      for (const events of byStream.values()) for (const p of events) if (p.after) await shred(p.after);
      return { appended, duplicates, deadLettered: letters.length };
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
