import { SporbarError } from './errors.ts';
import {
  MAX_EVENT_BYTES,
  STREAM_NAME_PATTERN,
  type AppendOptions,
  type EventToAppend,
  type ExpectedRevision,
} from './port.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Metadata is for small facts; the whole JSON of it may not exceed this. */
export const MAX_METADATA_BYTES = 64 * 1024;
export const MAX_TYPE_LENGTH = 200;

export interface ValidEvent {
  readonly eventId: string; // lower case
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Readonly<Record<string, string>>;
  readonly metadataJson: string;
}

export interface ValidAppend {
  readonly expectedRevision: ExpectedRevision;
  /** The events to store, duplicates within the batch removed (first occurrence wins). */
  readonly events: readonly ValidEvent[];
  /** eventIds that occurred more than once in the batch (reported as duplicates). */
  readonly inBatchDuplicates: readonly string[];
}

export function assertStreamName(streamName: unknown): asserts streamName is string {
  if (typeof streamName !== 'string' || !STREAM_NAME_PATTERN.test(streamName)) {
    throw new SporbarError(
      'SPB_ERR_INVALID_STREAM_NAME',
      'A stream name must match [A-Za-z0-9][A-Za-z0-9_.:-]{0,199}.',
      { details: { length: typeof streamName === 'string' ? streamName.length : null } },
    );
  }
}

export function expectedRevisionToString(expected: ExpectedRevision): string {
  return typeof expected === 'bigint' ? expected.toString() : expected;
}

function assertExpectedRevision(expected: unknown): asserts expected is ExpectedRevision {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return;
  if (typeof expected === 'bigint' && expected >= 0n) return;
  throw new SporbarError(
    'SPB_ERR_INVALID_EVENT',
    "expectedRevision must be 'any', 'no_stream', 'stream_exists' or a bigint >= 0n.",
    { details: { expected: String(expected) } },
  );
}

/** Checks everything before any I/O, so a bad batch never reaches the database. */
export function validateAppend(
  streamName: string,
  events: readonly EventToAppend[],
  options: AppendOptions | undefined,
): ValidAppend {
  assertStreamName(streamName);
  const expectedRevision = options?.expectedRevision ?? 'any';
  assertExpectedRevision(expectedRevision);
  if (!Array.isArray(events) || events.length === 0) {
    throw new SporbarError('SPB_ERR_INVALID_EVENT', 'An append needs at least one event.', { details: { count: 0 } });
  }
  const seen = new Set<string>();
  const valid: ValidEvent[] = [];
  const inBatchDuplicates: string[] = [];
  events.forEach((event, index) => {
    const e = event as Partial<EventToAppend> | null | undefined;
    if (!e || typeof e.eventId !== 'string' || !UUID.test(e.eventId)) {
      throw new SporbarError('SPB_ERR_INVALID_EVENT', `Event ${index} has no valid uuid eventId.`, {
        details: { index, field: 'eventId' },
      });
    }
    if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > MAX_TYPE_LENGTH) {
      throw new SporbarError('SPB_ERR_INVALID_EVENT', `Event ${index} has an empty or overlong type.`, {
        details: { index, field: 'type' },
      });
    }
    if (!(e.data instanceof Uint8Array)) {
      throw new SporbarError('SPB_ERR_INVALID_EVENT', `Event ${index} has no Uint8Array data.`, {
        details: { index, field: 'data' },
      });
    }
    if (e.data.byteLength > MAX_EVENT_BYTES) {
      throw new SporbarError('SPB_ERR_EVENT_TOO_LARGE', `Event ${index} is larger than ${MAX_EVENT_BYTES} bytes.`, {
        details: { index, bytes: e.data.byteLength, limit: MAX_EVENT_BYTES },
      });
    }
    const metadata = e.metadata ?? {};
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new SporbarError('SPB_ERR_INVALID_EVENT', `Event ${index} has invalid metadata.`, {
        details: { index, field: 'metadata' },
      });
    }
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new SporbarError('SPB_ERR_INVALID_EVENT', `Event ${index} metadata values must be strings.`, {
          details: { index, field: `metadata.${k}` },
        });
      }
    }
    const metadataJson = JSON.stringify(metadata);
    if (Buffer.byteLength(metadataJson) > MAX_METADATA_BYTES) {
      throw new SporbarError('SPB_ERR_EVENT_TOO_LARGE', `Event ${index} metadata is larger than ${MAX_METADATA_BYTES} bytes.`, {
        details: { index, field: 'metadata', limit: MAX_METADATA_BYTES },
      });
    }
    const eventId = e.eventId.toLowerCase();
    if (seen.has(eventId)) {
      inBatchDuplicates.push(eventId);
      return;
    }
    seen.add(eventId);
    valid.push({ eventId, type: e.type, data: e.data, metadata, metadataJson });
  });
  return { expectedRevision, events: valid, inBatchDuplicates };
}

/** Views a Buffer (or any Uint8Array subclass) as a plain Uint8Array without copying. */
export const asUint8Array = (b: Uint8Array): Uint8Array =>
  Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
