/** One Kafka-shaped message: what the producer hands to a transport. No personal data in key or headers. */
export interface OutgoingMessage {
  /** Partition key: the subject's routing key (a keyed hash), so one subject's events stay ordered. */
  readonly key: string;
  /** Avro single-object encoding of the event. */
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** Where the producer sends: Kafka in production, the ingest directly in the embedded default. */
export interface Transport {
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Delivers everything accepted so far (spooled or buffered) before resolving. */
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

export const HEADER_EVENT_TYPE = 'sporbar-event-type';
export const HEADER_FINGERPRINT = 'sporbar-fingerprint';
export const HEADER_EVENT_ID = 'sporbar-event-id';

/**
 * The embedded default: messages go straight to a handler in the same process (the ingest), in
 * order, one call at a time, so the in-process path has the same ordering a Kafka partition gives.
 */
export function createInProcessTransport(handler: (messages: readonly OutgoingMessage[]) => Promise<void>): Transport {
  let tail: Promise<void> = Promise.resolve();
  return {
    send(messages) {
      const run = tail.then(() => handler(messages));
      tail = run.catch(() => undefined);
      return run;
    },
    flush: () => tail,
  };
}
