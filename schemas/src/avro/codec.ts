import type avro from 'avsc';
import { SporbarError } from '@sporbar/common/errors';
import type { EventMap, EventType } from '../generated/events.ts';
import { scanBody } from './body-scan.ts';
import { fingerprintBytes, fingerprintHex } from './crc64-avro.ts';
import { loadSchemaCatalogue, type SchemaCatalogue, type SchemaVersion } from './schema-catalogue.ts';

/** Avro single-object encoding: 0xC3 0x01, then the 8-byte little-endian CRC-64-AVRO fingerprint. */
export const SINGLE_OBJECT_MAGIC = Uint8Array.of(0xc3, 0x01);
export const HEADER_BYTES = 10;
export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;

export interface DecodedEvent<K extends EventType = EventType> {
  readonly eventType: K;
  /** The schema version the bytes were written with. */
  readonly writerVersion: number;
  readonly fingerprint: bigint;
  /** The event as the current (reader) schema sees it. */
  readonly event: EventMap[K];
}

export interface FieldProblem {
  /** Dotted path, e.g. 'recipient.role' or 'dataCategories[2]'. */
  readonly path: string;
  readonly message: string;
}

export interface Codec {
  readonly catalogue: SchemaCatalogue;
  /** Field-level problems of an event against the current schema of its type; empty when valid. */
  validate<K extends EventType>(eventType: K, event: unknown): FieldProblem[];
  /** Validates, then encodes with the current schema. Throws SPB_ERR_SCHEMA_INVALID naming the field. */
  encode<K extends EventType>(eventType: K, event: EventMap[K]): Buffer;
  /** Decodes any known writer version into the current reader schema; every failure is a SporbarError. */
  decode(bytes: Uint8Array): DecodedEvent;
  /** The fingerprint the current schema of a type writes, as text: hex of its 8 little-endian bytes (`fingerprintHex`). */
  fingerprintHex(eventType: EventType): string;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s === undefined ? String(value) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function expected(type: avro.Type): string {
  const t = type as unknown as { typeName: string; symbols?: string[]; underlyingType?: avro.Type };
  if (t.symbols) return `one of ${t.symbols.join(', ')}`;
  return t.typeName.replace(/^logical:/, '');
}

export interface CodecOptions {
  readonly catalogue?: SchemaCatalogue;
  readonly maxBytes?: number;
  /**
   * Pin the reader schema of an event type to an older version (a consumer not yet upgraded while
   * producers already write a newer version it knows the schema of). Default: the newest version.
   */
  readonly readAs?: Partial<Record<EventType, number>>;
}

export function createCodec(options: CodecOptions = {}): Codec {
  const catalogue = options.catalogue ?? loadSchemaCatalogue();
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const resolvers = new Map<bigint, { reader: SchemaVersion; resolver: avro.Resolver | undefined }>();
  const headers = new Map<string, Buffer>();
  const fingerprintsHex = new Map<string, string>();
  let scratch = Buffer.allocUnsafe(16 * 1024);

  const resolverFor = (writer: SchemaVersion) => {
    let entry = resolvers.get(writer.fingerprint);
    if (!entry) {
      const pinned = options.readAs?.[writer.eventType as EventType];
      const reader =
        pinned === undefined ? catalogue.current(writer.eventType) : catalogue.versions(writer.eventType).find((v) => v.version === pinned);
      if (!reader) throw new SporbarError('SPB_ERR_UNKNOWN_EVENT_TYPE', `${writer.eventType} has no version ${pinned} to read as`);
      entry = { reader, resolver: reader === writer ? undefined : reader.type.createResolver(writer.type) };
      resolvers.set(writer.fingerprint, entry);
    }
    return entry;
  };

  const headerFor = (eventType: string): Buffer => {
    let h = headers.get(eventType);
    if (!h) {
      h = Buffer.concat([SINGLE_OBJECT_MAGIC, fingerprintBytes(catalogue.current(eventType).fingerprint)]);
      headers.set(eventType, h);
    }
    return h;
  };

  const validate = (eventType: EventType, event: unknown): FieldProblem[] => {
    const { type } = catalogue.current(eventType);
    if (type.isValid(event)) return []; // the common case, without the path bookkeeping of an errorHook
    const problems: FieldProblem[] = [];
    type.isValid(event, {
      errorHook(path: string[], value: unknown, t: avro.Type) {
        const where = path.length ? path.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]') : '(event)';
        problems.push({ path: where, message: `expected ${expected(t)}, got ${describe(value)}` });
      },
    });
    return problems;
  };

  return {
    catalogue,
    validate,
    encode(eventType, event) {
      const problems = validate(eventType, event);
      if (problems.length > 0) {
        const first = problems[0]!;
        throw new SporbarError('SPB_ERR_SCHEMA_INVALID', `${eventType}.${first.path}: ${first.message}`, {
          details: { eventType, problems },
        });
      }
      // Header and body into one reused scratch buffer, then one exact-size copy out.
      const header = headerFor(eventType);
      const type = catalogue.current(eventType).type;
      let end = type.encode(event, scratch, header.length);
      if (end < 0) {
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end)); // avsc returned -(bytes missing)
        end = type.encode(event, scratch, header.length);
      }
      if (end > maxBytes) {
        throw new SporbarError('SPB_ERR_OVERSIZED', `${eventType} encodes to ${end} bytes, over the limit of ${maxBytes}`, {
          details: { size: end, maxBytes },
        });
      }
      header.copy(scratch, 0);
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 0, 0, end);
      return out;
    },
    decode(input) {
      const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      if (bytes.length > maxBytes) {
        throw new SporbarError('SPB_ERR_OVERSIZED', `input of ${bytes.length} bytes is over the limit of ${maxBytes}`, {
          details: { size: bytes.length, maxBytes },
        });
      }
      if (bytes.length < 2 || bytes[0] !== 0xc3 || bytes[1] !== 0x01) {
        throw new SporbarError('SPB_ERR_BAD_MAGIC', `expected the single-object marker C3 01, got ${bytes.subarray(0, 2).toString('hex') || 'no bytes'}`);
      }
      if (bytes.length < HEADER_BYTES) {
        throw new SporbarError('SPB_ERR_TRUNCATED', `header needs ${HEADER_BYTES} bytes, got ${bytes.length}`, { details: { offset: bytes.length } });
      }
      const fingerprint = bytes.readBigUInt64LE(2);
      const writer = catalogue.byFingerprint(fingerprint);
      if (!writer) {
        throw new SporbarError('SPB_ERR_UNKNOWN_FINGERPRINT', `no known schema has fingerprint ${fingerprintHex(fingerprint)}`, {
          details: { fingerprint: fingerprintHex(fingerprint) },
        });
      }
      const scanned = scanBody(writer.type, bytes, HEADER_BYTES);
      if (!scanned.ok) {
        const code = scanned.kind === 'truncated' ? 'SPB_ERR_TRUNCATED' : 'SPB_ERR_MALFORMED_BODY';
        throw new SporbarError(code, `${writer.eventType} v${writer.version}: ${scanned.problem} at byte ${scanned.offset}`, {
          details: { offset: scanned.offset, eventType: writer.eventType },
        });
      }
      if (scanned.end !== bytes.length) {
        throw new SporbarError('SPB_ERR_TRAILING_BYTES', `${bytes.length - scanned.end} bytes after the ${writer.eventType} body`, {
          details: { offset: scanned.end },
        });
      }
      const { reader, resolver } = resolverFor(writer);
      let event: unknown;
      try {
        event = reader.type.decode(bytes, HEADER_BYTES, resolver).value;
        // Values the scan cannot judge (a uuid string that is not a uuid, an unsafe long) are caught here.
        if (event === undefined || !reader.type.isValid(event)) throw new Error('decoded value does not match the reader schema');
      } catch (cause) {
        throw new SporbarError('SPB_ERR_MALFORMED_BODY', `${writer.eventType} v${writer.version}: ${(cause as Error).message}`, {
          cause,
          details: { eventType: writer.eventType },
        });
      }
      return { eventType: writer.eventType as EventType, writerVersion: writer.version, fingerprint, event } as DecodedEvent;
    },
    fingerprintHex(eventType) {
      let hex = fingerprintsHex.get(eventType);
      if (hex === undefined) fingerprintsHex.set(eventType, (hex = fingerprintHex(catalogue.current(eventType).fingerprint)));
      return hex;
    },
  };
}
