import type { EventStore } from '@sporbar/event-store';
import type { DisclosureRecorded } from '@sporbar/schemas';
import { ORIGIN_METADATA_KEY, signCheckpointEvent } from '../src/checkpoint/checkpoint-event.ts';
import { generateSigningKey, type SigningKey } from '../src/checkpoint/signed-tree-head.ts';
import { CHECKPOINT_STREAM } from '../src/log/source.ts';
import { SUBJECT_MAP_STREAM, subjectMapCommitmentId, SubjectMap, subjectMapKeys, type SubjectMapKeys } from '../src/map/index.ts';
import { CompactRange } from '../src/merkle/compact-range.ts';
import { leafHash } from '../src/merkle/rfc9162.ts';
import { ORIGIN, codec, disclosure, toAppend } from './support.ts';

/** A pseudonym as ingest writes them (psn_<key id>_<43 base64url characters>), one per subject number. */
export const pseudonymOf = (subject: number): string => `psn_k1_${Buffer.from(`subject number ${subject} of the map tests`).toString('base64url').slice(0, 43).padEnd(43, 'A')}`;

export interface WrittenCommitment {
  /** The commitment's own leaf index, and the tree size (and root) it commits. */
  readonly logIndex: number;
  readonly treeSize: number;
  readonly root: Buffer;
  /** The root an honest map has at treeSize. */
  readonly honestRoot: Buffer;
  readonly position: bigint;
  readonly eventId: string;
}

/**
 * Writes a log the way the checkpointer will (disclosures, SubjectMapCommitted leaves, signed
 * checkpoints), through the store's append, with real encoded events. Each commitment's root is
 * recomputed from scratch by a fresh SubjectMap over the disclosures before its size (unless the test
 * asks for a lie).
 */
export class MapLogWriter {
  readonly keys: SubjectMapKeys;
  readonly mapKey: Buffer;
  readonly signing: SigningKey;
  readonly range = new CompactRange();
  /** The disclosures written: leaf index, pseudonym, leaf hash. */
  readonly disclosures: { logIndex: number; pseudonym: string; leafHash: Buffer }[] = [];
  readonly commitments: WrittenCommitment[] = [];
  private n = 0;

  constructor(
    readonly store: EventStore,
    options: { mapKey?: Buffer; signing?: SigningKey } = {},
  ) {
    this.mapKey = options.mapKey ?? Buffer.from('the subject map key of the tests, 32+ bytes long');
    this.keys = subjectMapKeys(this.mapKey);
    this.signing = options.signing ?? generateSigningKey();
  }

  get size(): number {
    return this.range.size;
  }

  private async add(stream: string, e: { eventId: string; type: string; data: Buffer; metadata?: Record<string, string> }): Promise<{ logIndex: number; position: bigint }> {
    const logIndex = this.range.size;
    const r = await this.store.append(stream, [{ eventId: e.eventId, type: e.type, data: e.data, metadata: e.metadata ?? {} }]);
    this.range.appendLeaf(e.data);
    return { logIndex, position: r.lastPosition };
  }

  /** A DisclosureRecorded about `subject`. */
  async disclosure(subject: number): Promise<number> {
    const d = { ...disclosure(this.n++), subject: { scheme: 'PSEUDONYM', value: pseudonymOf(subject) } } as DisclosureRecorded;
    const e = toAppend(d);
    const { logIndex } = await this.add(`subject-${d.subject.value}`, e);
    this.disclosures.push({ logIndex, pseudonym: d.subject.value, leafHash: leafHash(e.data) });
    return logIndex;
  }

  /** The honest map root at `treeSize`, from scratch (optionally leaving out the disclosure at `omit`). */
  rootAt(treeSize: number, omit?: number): Buffer {
    const m = new SubjectMap({ saltOf: this.keys.saltOf });
    m.apply(
      this.disclosures.filter((d) => d.logIndex < treeSize && d.logIndex !== omit).map((d) => ({ index: this.keys.indexOf(d.pseudonym), logIndex: d.logIndex, leafHash: d.leafHash })),
      treeSize,
    );
    return m.root();
  }

  /** A SubjectMapCommitted of `treeSize` (default: the current size) with the honest root, or `root`; in its stream unless told. */
  async commit(options: { treeSize?: number; root?: Buffer; stream?: string } = {}): Promise<WrittenCommitment> {
    const treeSize = options.treeSize ?? this.range.size;
    const honestRoot = this.rootAt(Math.min(treeSize, this.range.size));
    const root = options.root ?? honestRoot;
    const eventId = subjectMapCommitmentId(ORIGIN, treeSize);
    const data = codec.encode('SubjectMapCommitted', { eventId, occurredAt: 1_764_000_000_000_000 + this.range.size, treeSize, rootHash: root });
    const { logIndex, position } = await this.add(options.stream ?? SUBJECT_MAP_STREAM, { eventId, type: 'SubjectMapCommitted', data });
    const c = { logIndex, treeSize, root, honestRoot, position, eventId };
    this.commitments.push(c);
    return c;
  }

  /** Raw bytes in the commitment stream (an undecodable commitment). */
  async rawCommitment(data: Buffer, eventId: string): Promise<number> {
    return (await this.add(SUBJECT_MAP_STREAM, { eventId, type: 'SubjectMapCommitted', data })).logIndex;
  }

  /** A signed checkpoint over everything so far. */
  async checkpoint(): Promise<void> {
    const { event } = signCheckpointEvent({ origin: ORIGIN, treeSize: this.range.size, rootHash: this.range.root() }, this.signing);
    await this.add(CHECKPOINT_STREAM, { eventId: event.eventId, type: 'CheckpointSigned', data: codec.encode('CheckpointSigned', event), metadata: { [ORIGIN_METADATA_KEY]: ORIGIN } });
  }
}
