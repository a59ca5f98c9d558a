import avro from 'avsc';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `uuid` logical type: a string that must be a canonical UUID. avsc would otherwise ignore the
 * annotation and accept any string, so a bad eventId (the idempotency key) would slip through.
 */
export class UuidType extends avro.types.LogicalType {
  override _fromValue(value: unknown): unknown {
    return value;
  }
  override _toValue(value: unknown): unknown {
    return typeof value === 'string' && UUID.test(value) ? value : undefined;
  }
  override _resolve(type: avro.Type): ((x: unknown) => unknown) | undefined {
    if (avro.Type.isType(type, 'string', 'logical:uuid')) return (x) => x;
    return undefined;
  }
}

/**
 * `timestamp-micros` as a plain number of microseconds since the epoch: lossless (a JS Date only
 * holds milliseconds) and safe until the year 2255. Values must be safe integers.
 */
export class TimestampMicrosType extends avro.types.LogicalType {
  override _fromValue(value: unknown): unknown {
    return value;
  }
  override _toValue(value: unknown): unknown {
    return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
  }
  override _resolve(type: avro.Type): ((x: unknown) => unknown) | undefined {
    if (avro.Type.isType(type, 'long', 'logical:timestamp-micros')) return (x) => x;
    return undefined;
  }
}

export const LOGICAL_TYPES = { uuid: UuidType, 'timestamp-micros': TimestampMicrosType };

/** Microseconds since the epoch for a Date (or now). */
export const toMicros = (date: Date = new Date()): number => date.getTime() * 1000;
/** A Date for a timestamp-micros value (sub-millisecond digits are dropped). */
export const fromMicros = (micros: number): Date => new Date(Math.floor(micros / 1000));
