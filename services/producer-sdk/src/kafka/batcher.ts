/**
 * Linger batching: the messages send() accepted and not yet handed on, oldest first, taken in
 * batches of at most batchSize messages and about maxBatchBytes. Each message belongs to the group
 * of its send() call, which settles when all of its messages are delivered, spooled or refused.
 */
import type { SpooledMessage } from '../spool/message-codec.ts';

export interface Group {
  /** Messages of this send() not yet acknowledged by Kafka, spooled or refused. */
  remaining: number;
  failed: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

export interface Item {
  readonly msg: SpooledMessage;
  readonly size: number;
  readonly group: Group;
}

/**
 * Counts the items off their groups: a group rejects at its first error (the caller learns at once;
 * its other messages still count) and resolves when its last message is through without one.
 * Settled groups leave `unsettled`.
 */
export function settleItems(items: readonly Item[], err: unknown, unsettled: Set<Group>): void {
  for (const { group } of items) {
    group.remaining--;
    if (err !== undefined && !group.failed) {
      group.failed = true;
      group.reject(err);
    }
    if (group.remaining === 0) {
      unsettled.delete(group);
      if (!group.failed) group.resolve();
    }
  }
}

export class Batcher {
  /** buffer[head], buffer[head + 1], ... are waiting. */
  private buffer: Item[] = [];
  private head = 0;
  private bufferedBytes = 0;

  constructor(
    private readonly batchSize: number,
    private readonly maxBatchBytes: number,
    private readonly lingerMs: number,
  ) {}

  get count(): number {
    return this.buffer.length - this.head;
  }

  push(item: Item): void {
    this.buffer.push(item);
    this.bufferedBytes += item.size;
  }

  /** A batch is ready by itself: full by count or bytes, or its oldest message has lingered long enough. */
  ready(now: number): boolean {
    return this.count > 0 && (this.count >= this.batchSize || this.bufferedBytes >= this.maxBatchBytes || now - this.buffer[this.head]!.msg.acceptedAt >= this.lingerMs);
  }

  /** How long until the oldest message has lingered enough (0 if it has; only meaningful when count > 0). */
  lingerLeft(now: number): number {
    return Math.max(0, this.lingerMs - (now - this.buffer[this.head]!.msg.acceptedAt));
  }

  /** The next batch, oldest first (at least one message if any is waiting). */
  take(): Item[] {
    const start = this.head;
    const end = Math.min(this.buffer.length, start + this.batchSize);
    let i = start;
    let bytes = 0;
    while (i < end && (i === start || bytes + this.buffer[i]!.size <= this.maxBatchBytes)) bytes += this.buffer[i++]!.size;
    const batch = this.buffer.slice(start, i);
    this.bufferedBytes -= bytes;
    this.head = i;
    // Drop the taken part now and then (not on every batch: that would copy the rest each time).
    if (this.head === this.buffer.length) {
      this.buffer = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Everything waiting, emptying the buffer. */
  takeAll(): Item[] {
    const all = this.buffer.slice(this.head);
    this.buffer = [];
    this.head = 0;
    this.bufferedBytes = 0;
    return all;
  }
}
