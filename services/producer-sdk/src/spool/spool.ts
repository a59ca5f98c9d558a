/**
 * A durable, bounded, append-only spool of opaque records on local disk.
 *
 * Layout of `dir`:
 *   <base>.seg   segments; <base> (16 digits) is the sequence number of the segment's first record.
 *                Each record is  u32 length | u32 crc32(length bytes ++ payload) | payload.
 *   ack.state    delivery state: two 16-byte slots (u64 next-unacknowledged seq | u32 crc32 | pad),
 *                written alternately with fdatasync, so a torn write leaves the other slot intact.
 *   LOCK         pid of the process that has the spool open.
 *
 * Appends are group-committed: every append that arrives while a write+fdatasync is running goes into
 * the next single write+fdatasync. An append resolves only once its records are on disk. Records are
 * numbered by a sequence that never goes back; `ack(n)` records that every record below n has been
 * delivered, persists that, and deletes segments that hold nothing undelivered. On open, a torn or
 * corrupt tail (crash mid-write) is found by length/CRC and truncated, and reading resumes at the
 * first unacknowledged record. Nothing is kept in memory but the current read chunk.
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SporbarError } from '@sporbar/common/errors';
import { crc32 } from './crc32.ts';

export interface SpoolOptions {
  /** Directory of the spool (created if missing). One process at a time (a LOCK file guards it). */
  readonly dir: string;
  /** Bound on the bytes of all segment files. Default 256 MiB. Appends beyond it fail with SPB_ERR_SPOOL_FULL. */
  readonly maxBytes?: number;
  /** Roll to a new segment file after this many bytes. Default maxBytes/8, within [64 KiB, 16 MiB]. */
  readonly segmentBytes?: number;
}

export interface SpoolEntry {
  readonly seq: number;
  readonly payload: Buffer;
}

export interface SpoolStats {
  /** Records appended (or queued for append) and not yet acknowledged. */
  readonly pendingRecords: number;
  /** Bytes of all segment files (acknowledged records still count until their segment is deleted). */
  readonly diskBytes: number;
  readonly maxBytes: number;
  readonly segments: number;
  /** Sequence number of the first unacknowledged record. */
  readonly ackSeq: number;
  /** Sequence number the next appended record gets. */
  readonly nextSeq: number;
}

/** What open() found and repaired. */
export interface SpoolRecovery {
  readonly segments: number;
  readonly pendingRecords: number;
  /** Bytes cut off torn or corrupt segment tails. */
  readonly truncatedBytes: number;
}

export const DEFAULT_MAX_SPOOL_BYTES = 256 * 1024 * 1024;
export const RECORD_HEADER_BYTES = 8;
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const READ_BLOCK_BYTES = 1024 * 1024;
const SEGMENT_RE = /^(\d{16})\.seg$/;
const ACK_FILE = 'ack.state';
const LOCK_FILE = 'LOCK';
const ACK_SLOT_BYTES = 16;

interface Segment {
  readonly base: number;
  readonly file: string;
  /** Durable (fsync'd) records and bytes. */
  count: number;
  size: number;
}

interface PendingAppend {
  readonly payloads: readonly Buffer[];
  readonly bytes: number;
  resolve(): void;
  reject(err: unknown): void;
}

const openInThisProcess = new Set<string>();

export class Spool {
  private readonly queue: PendingAppend[] = [];
  private queuedBytes = 0;
  private queuedRecords = 0;
  private writing = false;
  private chain: Promise<void> = Promise.resolve();
  private waiters: (() => void)[] = [];
  private cursor: { seq: number; base: number; pos: number };
  private active: Segment | undefined;
  private activeFh: FileHandle | undefined;
  private ackSlot = 0;
  private broken: Error | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly segmentBytes: number,
    private readonly segments: Segment[],
    private ackSeq: number,
    private nextSeq: number,
    private diskBytes: number,
    private readonly ackFh: FileHandle,
    cursorPos: number,
    readonly recovery: SpoolRecovery,
  ) {
    const first = segments.find((s) => s.base + s.count > ackSeq);
    this.cursor = first
      ? { seq: Math.max(ackSeq, first.base), base: first.base, pos: first.base < ackSeq ? cursorPos : 0 }
      : { seq: ackSeq, base: -1, pos: 0 };
  }

  /** Open (or create) the spool in `options.dir`, repairing a torn tail. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const dir = path.resolve(options.dir);
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_SPOOL_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) throw new SporbarError('SPB_ERR_CONFIG', 'maxSpoolBytes must be an integer ≥ 1024');
    const segmentBytes = options.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(maxBytes / 8)));
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) throw new SporbarError('SPB_ERR_CONFIG', 'spool segmentBytes must be a positive integer');
    try {
      await fsp.mkdir(dir, { recursive: true });
      await acquireLock(dir);
    } catch (err) {
      throw spoolIo(err, `the spool directory ${dir} cannot be opened`);
    }
    try {
      return await Spool.load(dir, maxBytes, segmentBytes);
    } catch (err) {
      await releaseLock(dir).catch(() => undefined);
      throw spoolIo(err, `the spool in ${dir} cannot be read`);
    }
  }

  private static async load(dir: string, maxBytes: number, segmentBytes: number): Promise<Spool> {
    const ackFh = await fsp.open(path.join(dir, ACK_FILE), fs.existsSync(path.join(dir, ACK_FILE)) ? 'r+' : 'w+');
    const { seq: storedAck, slot } = await readAckState(ackFh);
    const names = (await fsp.readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    const segments: Segment[] = [];
    let truncatedBytes = 0;
    let ackSeq = storedAck;
    let cursorPos = 0;
    for (const name of names) {
      const base = Number(SEGMENT_RE.exec(name)![1]);
      const file = path.join(dir, name);
      // Acknowledgements older than the first remaining segment were written, then the segment deleted.
      if (segments.length === 0) ackSeq = Math.max(ackSeq, base);
      const scan = await scanSegment(file, ackSeq >= base ? ackSeq - base : -1);
      truncatedBytes += scan.truncatedBytes;
      if (scan.wantedOffset !== undefined) cursorPos = scan.wantedOffset;
      segments.push({ base, file, count: scan.count, size: scan.size });
    }
    const last = segments.at(-1);
    const nextSeq = Math.max(ackSeq, last ? last.base + last.count : 0);
    // Delete what is fully delivered.
    while (segments.length > 0 && segments[0]!.base + segments[0]!.count <= ackSeq) await fsp.rm(segments.shift()!.file, { force: true });
    const diskBytes = segments.reduce((n, s) => n + s.size, 0);
    const recovery: SpoolRecovery = { segments: segments.length, pendingRecords: nextSeq - ackSeq, truncatedBytes };
    const spool = new Spool(dir, maxBytes, segmentBytes, segments, ackSeq, nextSeq, diskBytes, ackFh, cursorPos, recovery);
    spool.ackSlot = slot;
    const tail = segments.at(-1);
    if (tail) {
      spool.active = tail;
      spool.activeFh = await fsp.open(tail.file, 'r+');
    }
    openInThisProcess.add(dir);
    return spool;
  }

  /** True when every appended record is acknowledged and no append is waiting. */
  get isEmpty(): boolean {
    return this.ackSeq >= this.nextSeq && this.queuedRecords === 0;
  }

  stats(): SpoolStats {
    return {
      pendingRecords: this.nextSeq - this.ackSeq + this.queuedRecords,
      diskBytes: this.diskBytes,
      maxBytes: this.maxBytes,
      segments: this.segments.length,
      ackSeq: this.ackSeq,
      nextSeq: this.nextSeq,
    };
  }

  /**
   * Append records; resolves once they are written and fdatasync'd (group commit with every other
   * append waiting at the time). Rejects with SPB_ERR_SPOOL_FULL, without writing anything, if the
   * records would take the spool beyond maxBytes.
   */
  append(payloads: readonly Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(new SporbarError('SPB_ERR_TRANSPORT_CLOSED', 'the spool is closed'));
    if (this.broken) return Promise.reject(this.broken);
    if (payloads.length === 0) return Promise.resolve();
    let bytes = 0;
    for (const p of payloads) {
      if (p.length === 0 || p.length > MAX_RECORD_BYTES) return Promise.reject(new SporbarError('SPB_ERR_INVALID_MESSAGE', `spool record must be 1..${MAX_RECORD_BYTES} bytes`, { details: { bytes: p.length } }));
      bytes += RECORD_HEADER_BYTES + p.length;
    }
    const used = this.diskBytes + this.queuedBytes;
    if (used + bytes > this.maxBytes) {
      return Promise.reject(
        new SporbarError('SPB_ERR_SPOOL_FULL', `the producer spool is full (${used} of ${this.maxBytes} bytes used); the broker has been unreachable too long`, {
          details: { maxBytes: this.maxBytes, usedBytes: used, pendingRecords: this.stats().pendingRecords, rejectedRecords: payloads.length },
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ payloads, bytes, resolve, reject });
      this.queuedBytes += bytes;
      this.queuedRecords += payloads.length;
      if (!this.writing) void this.writeLoop();
    });
  }

  /**
   * Read up to maxRecords (and about maxBytes; at least one record) durable records after the
   * last ones read, in order. Returns [] when nothing more is durable yet. The read position only
   * moves forward; after a reopen it starts at the first unacknowledged record.
   */
  async read(maxRecords: number, maxBytes = READ_BLOCK_BYTES): Promise<SpoolEntry[]> {
    const out: SpoolEntry[] = [];
    let bytes = 0;
    while (out.length < maxRecords && bytes < maxBytes) {
      const seg = this.segments.find((s) => s.base + s.count > this.cursor.seq);
      if (!seg) break;
      if (seg.base !== this.cursor.base) {
        const seq = Math.max(this.cursor.seq, seg.base);
        const pos = seq === seg.base ? 0 : (await scanSegment(seg.file, seq - seg.base, false)).wantedOffset!;
        this.cursor = { seq, base: seg.base, pos };
      }
      const end = seg.size;
      const fh = await fsp.open(seg.file, 'r');
      try {
        const reader = new BlockReader(fh, end, Math.min(READ_BLOCK_BYTES, Math.max(4096, maxBytes - bytes)));
        let pos = this.cursor.pos;
        while (out.length < maxRecords && pos < end) {
          const rec = await readRecord(reader, pos);
          if (!rec.ok) throw new SporbarError('SPB_ERR_INTERNAL', `spool segment ${path.basename(seg.file)} is corrupt at byte ${pos}: ${rec.reason}`);
          if (out.length > 0 && bytes + rec.payload.length > maxBytes) {
            maxRecords = out.length; // stop here: the chunk is full
            break;
          }
          out.push({ seq: this.cursor.seq, payload: rec.payload });
          bytes += rec.payload.length;
          pos = rec.next;
          this.cursor.seq++;
        }
        this.cursor.pos = pos;
      } finally {
        await fh.close();
      }
    }
    return out;
  }

  /** Every record with seq < nextUnacked is delivered: persist that (fdatasync) and delete spent segments. */
  async ack(nextUnacked: number): Promise<void> {
    // An internal invariant (the transport acknowledges only what it read), not a refusal: a plain RangeError.
    if (nextUnacked > this.nextSeq) throw new RangeError(`ack(${nextUnacked}) beyond the last record (${this.nextSeq})`);
    if (nextUnacked <= this.ackSeq) return;
    await this.serial(async () => {
      if (nextUnacked <= this.ackSeq) return;
      this.ackSlot ^= 1;
      const slot = Buffer.alloc(ACK_SLOT_BYTES);
      slot.writeBigUInt64BE(BigInt(nextUnacked), 0);
      slot.writeUInt32BE(crc32(slot.subarray(0, 8)), 8);
      await writeFully(this.ackFh, slot, this.ackSlot * ACK_SLOT_BYTES);
      await this.ackFh.datasync();
      this.ackSeq = nextUnacked;
      while (this.segments.length > 0 && this.segments[0]!.base + this.segments[0]!.count <= this.ackSeq) {
        const seg = this.segments.shift()!;
        if (seg === this.active) {
          await this.activeFh?.close();
          this.active = undefined;
          this.activeFh = undefined;
        }
        await fsp.rm(seg.file, { force: true });
        this.diskBytes -= seg.size;
      }
    });
    this.notify();
  }

  /** Resolves at the next change: records became durable, an ack was persisted, or the spool closed. */
  waitForChange(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolve every waitForChange() now (to stop someone waiting on it). */
  wakeWaiters(): void {
    this.notify();
  }

  /** Waits for queued appends, then closes the files and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing || this.queue.length > 0) await this.waitForChange();
    await this.serial(async () => {
      await this.activeFh?.close();
      this.activeFh = undefined;
      await this.ackFh.close();
    });
    openInThisProcess.delete(this.dir);
    await releaseLock(this.dir);
    this.notify();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.queue.length);
        let bytes = 0;
        let records = 0;
        for (const b of batch) {
          bytes += b.bytes;
          records += b.payloads.length;
        }
        try {
          await this.serial(() => this.writeBatch(batch, bytes, records));
          for (const b of batch) b.resolve();
        } catch (err) {
          const refusal = spoolIo(err, 'the spool could not write (nothing of these records was accepted)');
          for (const b of batch) b.reject(refusal);
        } finally {
          this.queuedBytes -= bytes;
          this.queuedRecords -= records;
          this.notify();
        }
      }
    } finally {
      this.writing = false;
      this.notify();
    }
  }

  private async writeBatch(batch: readonly PendingAppend[], bytes: number, records: number): Promise<void> {
    if (this.broken) throw this.broken;
    if (!this.active || !this.activeFh || this.active.size >= this.segmentBytes) await this.rollSegment();
    const seg = this.active!;
    const fh = this.activeFh!;
    const buf = Buffer.allocUnsafe(bytes);
    let o = 0;
    for (const b of batch) {
      for (const p of b.payloads) {
        buf.writeUInt32BE(p.length, o);
        buf.writeUInt32BE(crc32(p, crc32(buf, 0, o, o + 4)), o + 4);
        p.copy(buf, o + RECORD_HEADER_BYTES);
        o += RECORD_HEADER_BYTES + p.length;
      }
    }
    try {
      await writeFully(fh, buf, seg.size);
      await fh.datasync();
    } catch (err) {
      try {
        await fh.truncate(seg.size); // not accepted: leave no half batch behind
      } catch (cause) {
        this.broken = new SporbarError('SPB_ERR_INTERNAL', 'the spool could not undo a failed write; it accepts nothing more', { cause });
      }
      throw err;
    }
    seg.size += bytes;
    seg.count += records;
    this.nextSeq += records;
    this.diskBytes += bytes;
  }

  private async rollSegment(): Promise<void> {
    await this.activeFh?.close();
    const file = path.join(this.dir, `${String(this.nextSeq).padStart(16, '0')}.seg`);
    const fh = await fsp.open(file, 'w');
    await fsyncDir(this.dir); // the new directory entry must survive a crash too
    const seg: Segment = { base: this.nextSeq, file, count: 0, size: 0 };
    this.segments.push(seg);
    this.active = seg;
    this.activeFh = fh;
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/** A system error (ENOSPC, EACCES ...) as SPB_ERR_SPOOL_IO with it as the cause; SporbarErrors pass unchanged. */
function spoolIo(err: unknown, what: string): unknown {
  if (err instanceof SporbarError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new SporbarError('SPB_ERR_SPOOL_IO', code ? `${what}: ${code}` : what, { cause: err, details: code ? { errno: code } : {} });
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // some platforms/filesystems cannot fsync a directory; the data itself is fsync'd
  } finally {
    await fh.close();
  }
}

async function readAckState(fh: FileHandle): Promise<{ seq: number; slot: number }> {
  const buf = Buffer.alloc(ACK_SLOT_BYTES * 2);
  await fh.read(buf, 0, buf.length, 0);
  let best = { seq: 0, slot: 1 }; // next write goes to slot 0
  for (const slot of [0, 1]) {
    const s = buf.subarray(slot * ACK_SLOT_BYTES, (slot + 1) * ACK_SLOT_BYTES);
    if (crc32(s.subarray(0, 8)) !== s.readUInt32BE(8)) continue;
    const seq = Number(s.readBigUInt64BE(0));
    if (seq >= best.seq) best = { seq, slot };
  }
  return best;
}

/** Positional reads through a block buffer (bounded memory for any file size). */
class BlockReader {
  private buf = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
    private readonly block: number,
  ) {}

  /** [pos, pos+len) of the file, or undefined if the file ends before. */
  async get(pos: number, len: number): Promise<Buffer | undefined> {
    if (pos + len > this.size) return undefined;
    if (pos >= this.start && pos + len <= this.start + this.buf.length) return this.buf.subarray(pos - this.start, pos - this.start + len);
    const n = Math.min(Math.max(len, this.block), this.size - pos);
    const b = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.fh.read(b, got, n - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < len) return undefined;
    this.buf = b.subarray(0, got);
    this.start = pos;
    return this.buf.subarray(0, len);
  }
}

type RecordRead = { ok: true; payload: Buffer; next: number } | { ok: false; reason: string };

async function readRecord(reader: BlockReader, pos: number): Promise<RecordRead> {
  const header = await reader.get(pos, RECORD_HEADER_BYTES);
  if (!header) return { ok: false, reason: 'incomplete record header' };
  const len = header.readUInt32BE(0);
  const crc = header.readUInt32BE(4);
  const headCrc = crc32(header, 0, 0, 4);
  if (len === 0 || len > MAX_RECORD_BYTES) return { ok: false, reason: `impossible record length ${len}` };
  const payload = await reader.get(pos + RECORD_HEADER_BYTES, len);
  if (!payload) return { ok: false, reason: 'record extends past the end of the file' };
  if (crc32(payload, headCrc) !== crc) return { ok: false, reason: 'CRC mismatch' };
  return { ok: true, payload, next: pos + RECORD_HEADER_BYTES + len };
}

/**
 * Count the valid records of a segment; truncate (when `repair`) anything after the last valid
 * one; and return the byte offset of record number `want` (if ≥ 0 and reached).
 */
async function scanSegment(
  file: string,
  want: number,
  repair = true,
): Promise<{ count: number; size: number; truncatedBytes: number; wantedOffset: number | undefined }> {
  const fh = await fsp.open(file, repair ? 'r+' : 'r');
  try {
    const fileSize = (await fh.stat()).size;
    const reader = new BlockReader(fh, fileSize, READ_BLOCK_BYTES);
    let pos = 0;
    let count = 0;
    let wantedOffset: number | undefined;
    while (pos < fileSize) {
      if (count === want) wantedOffset = pos;
      const rec = await readRecord(reader, pos);
      if (!rec.ok) break;
      pos = rec.next;
      count++;
    }
    if (count === want) wantedOffset = pos;
    if (repair && pos < fileSize) {
      await fh.truncate(pos);
      await fh.datasync();
    }
    return { count, size: pos, truncatedBytes: fileSize - pos, wantedOffset };
  } finally {
    await fh.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireLock(dir: string): Promise<void> {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const pid = Number.parseInt(await fsp.readFile(file, 'utf8').catch(() => ''), 10);
    const inUse = pid === process.pid ? openInThisProcess.has(dir) : Number.isSafeInteger(pid) && pid > 0 && isAlive(pid);
    if (inUse) throw new SporbarError('SPB_ERR_CONFIG', `spool directory ${dir} is in use by process ${pid}`, { details: { pid } });
    await fsp.rm(file, { force: true }); // stale: its process is gone
  }
}

async function releaseLock(dir: string): Promise<void> {
  await fsp.rm(path.join(dir, LOCK_FILE), { force: true });
}
