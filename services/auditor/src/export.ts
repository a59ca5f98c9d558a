import { once } from 'node:events';
import { createReadStream, createWriteStream, openSync, readSync, closeSync, type WriteStream } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { createInterface } from 'node:readline';
import avro from 'avsc';
import { SporbarError } from '@sporbar/common/errors';
import { fingerprintHex, type CheckpointSigned, type Codec } from '@sporbar/schemas';
import { checkpointTextOf } from './checkpoint/checkpoint-event.ts';
import { loadVerifyingKey, verifyTreeHead, type VerifyingKey } from './checkpoint/signed-tree-head.ts';
import type { LogRow, LogSource } from './log/source.ts';
import { MerkleTree } from './merkle/merkle-tree.ts';
import { leafHash, verifyInclusion } from './merkle/rfc9162.ts';
import type { ReferenceLeaf, ReferenceLeaves } from './verify.ts';

/**
 * `export`: a slice of the log, with what an auditor needs to check it offline.
 *
 *   avro:   `<out>` is an Avro Object Container File (readable by any Avro tool) of `ExportedEvent`
 *           records; the file metadata holds the checkpoint note and every event writer schema
 *           (`sporbar.writerSchemas`, fingerprint as the hex of its 8 little-endian bytes → schema) so the stored bytes can be decoded too.
 *           `<out>.proofs.ndjson` holds the checkpoint line, then one inclusion proof per event.
 *   ndjson: one `{"kind":"event",…}` line per event (stored bytes in base64), then the trailer: one
 *           `{"kind":"checkpoint",…}` line and one `{"kind":"proof",…}` line per event.
 *
 * Proofs are against one signed checkpoint: the newest one (that verifies, when a key is given). Events
 * after its tree size are not covered yet and are left out (the result says how many).
 * Memory: the proof-serving MerkleTree, 64 B per leaf up to the checkpoint's size.
 */

export const EXPORT_RECORD_SCHEMA = {
  type: 'record',
  name: 'ExportedEvent',
  namespace: 'sporbar.export.v1',
  doc: 'One stored event of the Sporbar log: its place in the global order and its stored bytes (Avro single-object encoding).',
  fields: [
    { name: 'position', type: 'long' },
    { name: 'leafIndex', type: 'long' },
    { name: 'streamName', type: 'string' },
    { name: 'eventType', type: 'string' },
    { name: 'eventId', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'recordedAt', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'storedBytes', type: 'bytes' },
    {
      name: 'producer',
      type: ['null', 'string'],
      default: null,
      doc: 'The producer the ingest authenticated (its id in the producer registry); null for what Sporbar appends itself (checkpoints, key shreds) and for events stored before producer authentication.',
    },
  ],
} as const;

export interface ExportedEvent {
  position: number;
  leafIndex: number;
  streamName: string;
  eventType: string;
  eventId: string;
  recordedAt: number;
  storedBytes: Buffer;
  producer: string | null;
}

export type Bound = { readonly position: bigint } | { readonly time: Date };

export interface ExportOptions {
  readonly source: LogSource;
  readonly codec: Codec;
  readonly format: 'avro' | 'ndjson';
  readonly out: string;
  /** Inclusive. */
  readonly from?: Bound;
  /** Inclusive. */
  readonly to?: Bound;
  readonly publicKey?: string | KeyObject | VerifyingKey;
  readonly origin?: string;
  readonly onProgress?: (leaves: number, exported: number) => void;
}

export interface ExportResult {
  readonly events: number;
  readonly treeSize: number;
  readonly checkpoint: string;
  readonly files: string[];
  /** Events in the requested range after the checkpoint's tree size (not exported). */
  readonly uncovered: boolean;
  readonly seconds: number;
}

interface CheckpointHeader {
  readonly kind: 'checkpoint';
  readonly format: 'sporbar-export/1';
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly keyId: string;
  readonly checkpoint: string;
  readonly events: number;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const inBounds = (row: LogRow, from?: Bound, to?: Bound): boolean => {
  if (from && ('position' in from ? row.position < from.position : row.recordedAt < from.time)) return false;
  if (to && ('position' in to ? row.position > to.position : row.recordedAt > to.time)) return false;
  return true;
};

async function write(stream: NodeJS.WritableStream, chunk: string | Buffer | object): Promise<void> {
  if (!(stream as NodeJS.WritableStream & { write(c: unknown): boolean }).write(chunk)) await once(stream as WriteStream, 'drain');
}

/** The newest checkpoint in the log (verified when a key is given). */
async function chooseCheckpoint(source: LogSource, codec: Codec, key: VerifyingKey | undefined, wantedOrigin: string | undefined) {
  let best: { event: CheckpointSigned; text: string; origin: string } | undefined;
  for (const c of await source.checkpointCandidates()) {
    const origin = wantedOrigin ?? c.origin;
    if (!origin) continue;
    let event: CheckpointSigned;
    try {
      event = codec.decode(c.data).event as CheckpointSigned;
    } catch {
      continue;
    }
    const text = checkpointTextOf(event, origin);
    if (!text || (key && !verifyTreeHead(text, key, { origin }).ok)) continue;
    if (!best || event.treeSize > best.event.treeSize) best = { event, text, origin };
  }
  if (!best) throw new SporbarError('SPB_ERR_NOT_FOUND', `no ${key ? 'verifiable ' : ''}checkpoint in the log to prove an export against`);
  return best;
}

export async function exportLog(options: ExportOptions): Promise<ExportResult> {
  const started = process.hrtime.bigint();
  const { source, codec } = options;
  const key = options.publicKey ? loadVerifyingKey(options.publicKey) : undefined;
  const cp = await chooseCheckpoint(source, codec, key, options.origin);
  const treeSize = cp.event.treeSize;
  const tree = new MerkleTree();
  const indexes: number[] = [];
  let sawBeyond = false;
  let lastPosition = 0n;

  const writerSchemas: Record<string, unknown> = {};
  for (const t of codec.catalogue.eventTypes) for (const v of codec.catalogue.versions(t)) writerSchemas[fingerprintHex(v.fingerprint)] = v.schema;

  const file = createWriteStream(options.out, { highWaterMark: 1 << 20 });
  let encoder: avro.streams.BlockEncoder | undefined;
  if (options.format === 'avro') {
    encoder = new avro.streams.BlockEncoder(EXPORT_RECORD_SCHEMA as unknown as avro.Schema, {
      codec: 'null',
      blockSize: 1 << 20,
      metadata: {
        'sporbar.checkpoint': Buffer.from(cp.text),
        'sporbar.writerSchemas': Buffer.from(JSON.stringify(writerSchemas)),
      },
    } as unknown as ConstructorParameters<typeof avro.streams.BlockEncoder>[1]);
    encoder.pipe(file);
  }
  const sink: NodeJS.WritableStream = encoder ?? file;

  await source.scan(
    (row) => {
      const index = tree.size;
      tree.appendLeafHash(leafHash(row.data));
      lastPosition = row.position;
      if ((index & 0xffff) === 0 && index > 0) options.onProgress?.(index, indexes.length);
      if (!inBounds(row, options.from, options.to)) return;
      indexes.push(index);
      const record = {
        position: Number(row.position),
        leafIndex: index,
        streamName: row.streamName,
        eventType: row.type,
        eventId: row.eventId,
        recordedAt: row.recordedAt.getTime() * 1000,
        producer: row.metadata['producer'] ?? null,
      };
      if (encoder) return write(sink, { ...record, storedBytes: Buffer.from(row.data) });
      return write(sink, `${JSON.stringify({ kind: 'event', ...record, position: row.position.toString(), recordedAt: row.recordedAt.toISOString(), storedBytes: b64(row.data) })}\n`);
    },
    { maxCount: treeSize },
  );
  // Is the first event beyond the checkpoint inside the requested range? (then the export stops short of it)
  await source.scan(
    (row) => {
      if (inBounds(row, options.from, options.to)) sawBeyond = true;
    },
    { after: lastPosition, maxCount: 1 },
  );
  if (tree.size < treeSize) throw new SporbarError('SPB_ERR_NOT_FOUND', `the log has ${tree.size} leaves, fewer than the checkpoint's ${treeSize}: run verify`);
  const root = tree.root(treeSize);
  if (!root.equals(cp.event.rootHash)) throw new SporbarError('SPB_ERR_INTERNAL', `the log does not match checkpoint ${treeSize}: run verify`);

  const header: CheckpointHeader = {
    kind: 'checkpoint',
    format: 'sporbar-export/1',
    origin: cp.origin,
    treeSize,
    rootHash: b64(root),
    keyId: cp.event.keyId,
    checkpoint: cp.text,
    events: indexes.length,
  };
  const files = [options.out];
  let proofs: NodeJS.WritableStream = file;
  let proofFile: WriteStream | undefined;
  if (encoder) {
    encoder.end();
    await once(file, 'finish');
    proofFile = createWriteStream(`${options.out}.proofs.ndjson`, { highWaterMark: 1 << 20 });
    proofs = proofFile;
    files.push(`${options.out}.proofs.ndjson`);
  }
  await write(proofs, `${JSON.stringify(header)}\n`);
  // Lines are written in chunks of 512: one write (and at most one 'drain' wait) per chunk, not per line.
  let chunk: string[] = [];
  for (const i of indexes) {
    chunk.push(`{"kind":"proof","leafIndex":${i},"proof":${JSON.stringify(tree.inclusionProof(i, treeSize).map(b64))}}\n`);
    if (chunk.length === 512) {
      await write(proofs, chunk.join(''));
      chunk = [];
    }
  }
  if (chunk.length > 0) await write(proofs, chunk.join(''));
  const last = proofFile ?? file;
  last.end();
  await once(last, 'finish');
  return { events: indexes.length, treeSize, checkpoint: cp.text, files, uncovered: sawBeyond, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

// ---- verify --file ----

export interface ExportVerification {
  readonly ok: boolean;
  readonly events: number;
  readonly treeSize?: number;
  readonly origin?: string;
  readonly problems: string[];
}

interface EventLine {
  position: string;
  leafIndex: number;
  eventId: string;
  storedBytes: Buffer;
}

async function* ndjsonLines(path: string): AsyncGenerator<Record<string, unknown>> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`line ${n} of ${path} is not JSON`);
    }
  }
}

async function* avroEvents(path: string): AsyncGenerator<EventLine> {
  const decoder = avro.createFileDecoder(path, { readerSchema: EXPORT_RECORD_SCHEMA as unknown as avro.Schema });
  for await (const r of decoder as AsyncIterable<ExportedEvent>) yield { position: String(r.position), leafIndex: r.leafIndex, eventId: r.eventId, storedBytes: r.storedBytes };
}

async function* ndjsonEvents(path: string): AsyncGenerator<EventLine> {
  for await (const o of ndjsonLines(path)) {
    if (o['kind'] === 'checkpoint') return; // the trailer follows the last event
    if (o['kind'] !== 'event') continue;
    yield { position: String(o['position']), leafIndex: Number(o['leafIndex']), eventId: String(o['eventId']), storedBytes: Buffer.from(String(o['storedBytes']), 'base64') };
  }
}

async function* trailer(path: string): AsyncGenerator<Record<string, unknown>> {
  for await (const o of ndjsonLines(path)) if (o['kind'] === 'checkpoint' || o['kind'] === 'proof') yield o;
}

function isAvroFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    return b.equals(Buffer.from('Obj\x01', 'latin1'));
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks an export offline: the checkpoint's signature, then every event's leaf hash with its
 * inclusion proof against the checkpoint's root. Streams both files side by side: flat memory.
 */
export async function verifyExport(path: string, publicKey: string | KeyObject | VerifyingKey, options: { origin?: string; maxProblems?: number } = {}): Promise<ExportVerification> {
  const key = loadVerifyingKey(publicKey);
  const maxProblems = options.maxProblems ?? 20;
  const problems: string[] = [];
  const avroFile = isAvroFile(path);
  const events = avroFile ? avroEvents(path) : ndjsonEvents(path);
  const proofs = trailer(avroFile ? `${path}.proofs.ndjson` : path);
  let count = 0;
  try {
    const first = await proofs.next();
    const header = first.value as Partial<CheckpointHeader> | undefined;
    if (first.done || !header || header.kind !== 'checkpoint' || typeof header.checkpoint !== 'string') {
      return { ok: false, events: 0, problems: ['the export has no checkpoint line'] };
    }
    const v = verifyTreeHead(header.checkpoint, key, options.origin ? { origin: options.origin } : {});
    if (!v.ok) return { ok: false, events: 0, problems: [`the export's checkpoint does not verify: ${v.reason}`] };
    const { treeSize, rootHash, origin } = v.treeHead;
    let failures = 0;
    for (;;) {
      const [e, p] = await Promise.all([events.next(), proofs.next()]);
      if (e.done && p.done) break;
      if (e.done || p.done) {
        problems.push(e.done ? 'the export has more proofs than events' : `the export has more events than proofs (event at position ${e.value.position} has none)`);
        break;
      }
      count++;
      const ev = e.value;
      const proof = p.value;
      const where = `event at position ${ev.position} (leaf index ${ev.leafIndex}, event ${ev.eventId})`;
      const path = Array.isArray(proof['proof']) ? (proof['proof'] as unknown[]).map((h) => Buffer.from(String(h), 'base64')) : [];
      let problem: string | undefined;
      if (proof['leafIndex'] !== ev.leafIndex) problem = `${where}: the proof is for leaf index ${String(proof['leafIndex'])}`;
      else if (!verifyInclusion(ev.leafIndex, treeSize, leafHash(ev.storedBytes), path, rootHash)) problem = `${where}: its stored bytes are not the log's leaf at that index (inclusion proof against tree size ${treeSize} fails)`;
      if (problem) {
        failures++;
        if (problems.length < maxProblems) problems.push(problem);
      }
    }
    if (failures > problems.length) problems.push(`… ${failures - problems.length} more`);
    if (typeof header.events === 'number' && header.events !== count && problems.length === 0) problems.push(`the checkpoint line says ${header.events} events, the export holds ${count}`);
    return { ok: problems.length === 0, events: count, treeSize, origin, problems };
  } catch (err) {
    problems.push(`the export cannot be read: ${(err as Error).message}`);
    return { ok: false, events: count, problems };
  } finally {
    await events.return(undefined);
    await proofs.return(undefined);
  }
}

// ---- an export as trusted leaves (verify --reference, compare) ----

/** The events of an export, in file order (avro or ndjson), without checking anything. */
export async function* exportedEvents(path: string): AsyncGenerator<{ position: bigint; leafIndex: number; eventId: string; storedBytes: Buffer }> {
  for await (const e of isAvroFile(path) ? avroEvents(path) : ndjsonEvents(path)) yield { position: BigInt(e.position), leafIndex: e.leafIndex, eventId: e.eventId, storedBytes: e.storedBytes };
}

/**
 * An export as a reference for `verify --reference`: checked first with `verifyExport` (its checkpoint
 * verifies under the key and every event's inclusion proof holds), so each leaf it holds is the leaf
 * a signer saw. Throws SPB_ERR_BAD_REQUEST naming the problems when the export does not verify.
 */
export async function exportReference(path: string, publicKey: string | KeyObject | VerifyingKey, options: { origin?: string } = {}): Promise<ReferenceLeaves & { treeSize: number; events: number }> {
  const v = await verifyExport(path, publicKey, options);
  if (!v.ok) throw new SporbarError('SPB_ERR_BAD_REQUEST', `the reference export ${path} does not verify, so it cannot be trusted: ${v.problems.join('; ')}`);
  const treeSize = v.treeSize!;
  return {
    description: `the export ${path} (proven against the checkpoint of tree size ${treeSize})`,
    treeSize,
    events: v.events,
    async leaves(fromIndex, toIndex) {
      const out = new Map<number, ReferenceLeaf>();
      for await (const e of exportedEvents(path)) {
        if (e.leafIndex > toIndex) break;
        if (e.leafIndex >= fromIndex) out.set(e.leafIndex, { position: e.position, eventId: e.eventId, storedBytes: e.storedBytes });
      }
      return out;
    },
  };
}
