import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { isSporbarError, type ErrorCode } from '../../src/errors.ts';
import type { EventStore, EventToAppend, RecordedEvent } from '../../src/index.ts';

/** An event like an Avro-encoded disclosure: ~300 random bytes. */
export const makeEvent = (type = 'DisclosureRecorded', size = 300): EventToAppend => ({
  eventId: randomUUID(),
  type,
  data: new Uint8Array(randomBytes(size)),
  metadata: { fingerprint: 'f00dfeed', classification: 'internal' },
});

export const makeEvents = (n: number, type?: string): EventToAppend[] => Array.from({ length: n }, () => makeEvent(type));

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export const ids = (events: readonly { eventId: string }[]): string[] => events.map((e) => e.eventId);

/** Polls `check` until it returns true (or throws the last assertion after `timeoutMs`). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(100, delay * 2);
  }
}

/** Asserts that `p` rejects with a SporbarError of `code`; returns it for further checks. */
export async function expectSporbarError(p: Promise<unknown> | (() => unknown), code: ErrorCode) {
  let error: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${code}`).toBeDefined();
  expect(isSporbarError(error) ? error.code : error).toBe(code);
  if (!isSporbarError(error)) throw new Error('unreachable');
  return error;
}

/** Everything a stream and the global log show, to compare before and after a failed append. */
export async function snapshot(store: EventStore, streamName: string) {
  const stream = await collect(store.readStream(streamName));
  return { stream: stream.map((e) => `${e.streamRevision}:${e.eventId}`), head: await store.headPosition() };
}

export const expectStrictlyIncreasing = (events: readonly RecordedEvent[]) => {
  for (let i = 1; i < events.length; i++) {
    const prev = events[i - 1]!.globalPosition;
    const cur = events[i]!.globalPosition;
    if (!(cur > prev)) throw new Error(`global position not strictly increasing at ${i}: ${prev} then ${cur}`);
  }
};

export const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
