import type avro from 'avsc';

/**
 * Walks an Avro binary body against its writer type without building values, with bounds checks
 * on every length and block count. It runs before avsc decodes, so hostile input (a block count of
 * 2^40, a string length past the end) is refused up front instead of making avsc loop or allocate.
 * Returns the offset just past the body, or a description of the first problem.
 */
export type ScanResult = { ok: true; end: number } | { ok: false; kind: 'truncated' | 'malformed'; offset: number; problem: string };

class ScanError extends Error {
  constructor(
    readonly kind: 'truncated' | 'malformed',
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

interface Cursor {
  readonly buf: Uint8Array;
  pos: number;
}

function readLong(c: Cursor): number {
  let shift = 0;
  let result = 0;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.buf.length) throw new ScanError('truncated', c.pos, 'varint runs past the end');
    const b = c.buf[c.pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) {
      // zig-zag decode on a float-safe value
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
    shift += 7;
  }
  throw new ScanError('malformed', c.pos, 'varint longer than 10 bytes');
}

function need(c: Cursor, n: number, what: string): void {
  if (n < 0) throw new ScanError('malformed', c.pos, `negative ${what} length ${n}`);
  if (c.pos + n > c.buf.length) throw new ScanError('truncated', c.pos, `${what} of ${n} bytes runs past the end`);
  c.pos += n;
}

/** The least number of bytes one value of this type occupies (0 for null and empty records). */
function minSize(type: avro.Type): number {
  const t = type as unknown as { typeName: string; underlyingType?: avro.Type; fields?: Array<{ type: avro.Type }>; size?: number };
  if (t.underlyingType) return minSize(t.underlyingType);
  switch (t.typeName) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return t.size ?? 0;
    case 'record':
    case 'error':
      return (t.fields ?? []).reduce((n, f) => n + minSize(f.type), 0);
    default:
      return 1;
  }
}

const MAX_ZERO_SIZE_ITEMS = 1_000_000;

function scan(type: avro.Type, c: Cursor): void {
  const t = type as unknown as {
    typeName: string;
    underlyingType?: avro.Type;
    fields?: Array<{ name: string; type: avro.Type }>;
    itemsType?: avro.Type;
    valuesType?: avro.Type;
    types?: avro.Type[];
    symbols?: string[];
    size?: number;
  };
  if (t.underlyingType) return scan(t.underlyingType, c);
  switch (t.typeName) {
    case 'null':
      return;
    case 'boolean': {
      need(c, 1, 'boolean');
      const b = c.buf[c.pos - 1]!;
      if (b > 1) throw new ScanError('malformed', c.pos - 1, `boolean byte ${b}`);
      return;
    }
    case 'int':
    case 'long':
      readLong(c);
      return;
    case 'float':
      return need(c, 4, 'float');
    case 'double':
      return need(c, 8, 'double');
    case 'bytes':
    case 'string':
      return need(c, readLong(c), t.typeName);
    case 'fixed':
      return need(c, t.size ?? 0, 'fixed');
    case 'enum': {
      const at = c.pos;
      const i = readLong(c);
      if (i < 0 || i >= (t.symbols?.length ?? 0)) throw new ScanError('malformed', at, `enum index ${i} out of range`);
      return;
    }
    case 'record':
    case 'error':
      for (const f of t.fields ?? []) scan(f.type, c);
      return;
    case 'array':
    case 'map': {
      const item = t.typeName === 'array' ? t.itemsType! : t.valuesType!;
      const perItem = minSize(item) + (t.typeName === 'map' ? 1 : 0);
      for (;;) {
        const at = c.pos;
        let n = readLong(c);
        if (n === 0) return;
        if (n < 0) {
          n = -n;
          readLong(c); // block size in bytes, allowed by the spec for skipping
        }
        const room = c.buf.length - c.pos;
        if (perItem > 0 ? n * perItem > room : n > MAX_ZERO_SIZE_ITEMS) {
          throw new ScanError(perItem > 0 ? 'truncated' : 'malformed', at, `block of ${n} items cannot fit in ${room} remaining bytes`);
        }
        for (let i = 0; i < n; i++) {
          if (t.typeName === 'map') need(c, readLong(c), 'map key');
          scan(item, c);
        }
      }
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const at = c.pos;
      const i = readLong(c);
      const branch = t.types?.[i];
      if (i < 0 || !branch) throw new ScanError('malformed', at, `union branch ${i} out of range`);
      return scan(branch, c);
    }
    default:
      throw new ScanError('malformed', c.pos, `unsupported type ${t.typeName}`);
  }
}

export function scanBody(type: avro.Type, buf: Uint8Array, offset: number): ScanResult {
  const c: Cursor = { buf, pos: offset };
  try {
    scan(type, c);
    return { ok: true, end: c.pos };
  } catch (e) {
    if (e instanceof ScanError) return { ok: false, kind: e.kind, offset: e.offset, problem: e.message };
    throw e;
  }
}
