import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createCodec, type Codec, type DisclosureRecorded, type SubjectMapCommitted } from '@sporbar/schemas';
import { generateSigningKey, logOrigin, signTreeHead, verifierKeyString, type SigningKey } from '../../src/checkpoint/signed-tree-head.ts';
import { inclusionProof, leafHash, rootFromLeafHashes } from '../../src/merkle/rfc9162.ts';
import { createCosigner, formatPolicy, type Cosigner } from '../../src/note/index.ts';
import { encodeMapProof, SUBJECT_MAP_BUNDLE_FORMAT, SubjectMap, subjectMapKeys, type MapEntry, type SubjectMapBundleJson, type SubjectMapKeys } from '../../src/map/index.ts';

/**
 * A real subject map proof bundle, for the verifiers' tests (the auditor's, the CLI's, the citizen
 * page's in the access API — import it by relative path): real DisclosureRecorded events encoded by
 * the schemas' codec, a real RFC 6962 tree over them, a real SubjectMap keyed like the log service's
 * (subjectMapKeys), real SubjectMapCommitted leaves, and a checkpoint signed by a fresh log key and
 * cosigned by fresh witness keys. Nothing is computed by the code under test but what it verifies.
 *
 * The log, in order: `covered` (each a disclosure about that pseudonym, or null: a commitment of the
 * map so far, as the checkpointer writes one per checkpoint), then the commitment the bundle proves
 * (leaf `covered.length`, treeSize = covered.length, made `committedAt`: now unless told), then `after` (disclosures in the log but not
 * yet under the map), then the checkpoint over all of it. `unlogged` more of the citizen's
 * disclosures are not in the log yet (pending with leafIndex null).
 */

export const sharedCodec: Codec = createCodec();

/** A syntactically valid pseudonym for a name (what the key store would give a person). */
export const pseudonymOf = (name: string): string => `psn_k1_${createHash('sha256').update(`pseudonym ${name}`).digest('base64url')}`;

export interface BuildBundleOptions {
  readonly covered: readonly (string | null)[];
  readonly after?: readonly (string | null)[];
  readonly unlogged?: number;
  /** The citizen's pseudonyms, in the order of the bundle's subjects (two after a rotation). */
  readonly citizen: readonly string[];
  /** Witness names (each cosigns; the policy asks for all). Default: datatilsynet, rigsrevisionen. */
  readonly witnesses?: readonly string[];
  readonly logId?: string;
  /** A log that commits another map root than its map's (what an operator showing a forged map does). */
  readonly commitRoot?: (root: Buffer) => Buffer;
  /** A commitment that claims another tree size than the map's. */
  readonly commitSize?: (treeSize: number) => number;
  /** A map that files pseudonyms under other indexes than the map key gives (a mislabelling log service). */
  readonly indexOf?: (pseudonym: string, keyed: Buffer) => Buffer;
  readonly mapKey?: Buffer;
  readonly logKey?: SigningKey;
  /** When the bundle's commitment was made (its occurredAt, µs since the epoch). Default: now (a fresh map). */
  readonly committedAt?: number;
}

export interface BuiltDisclosure {
  readonly eventId: string;
  readonly pseudonym: string;
  /** Its position in the log, or null when not in the log. */
  readonly leafIndex: number | null;
  /** Its stored bytes (null when not in the log). */
  readonly bytes: Buffer | null;
}

export interface BuiltBundle {
  readonly bundle: SubjectMapBundleJson;
  readonly origin: string;
  /** The log's verifier key (GET /v1/log/key's verifierKey). */
  readonly vkey: string;
  /** A C2SP tlog-policy: the log and the witnesses, all of whom must cosign (GET /v1/log/policy). */
  readonly policy: string;
  readonly logKey: SigningKey;
  readonly witnesses: readonly Cosigner[];
  /** Every disclosure built, the citizen's and others', in log order (unlogged last). */
  readonly disclosures: readonly BuiltDisclosure[];
  /** What an honest report lists: the eventIds of the bundle's leaves (subject by subject) and pending items. */
  readonly listed: readonly string[];
  /** The log's entries (stored bytes), in order. */
  readonly entries: readonly Buffer[];
  readonly treeSize: number;
  /** The bundle's commitment's occurredAt (µs since the epoch). */
  readonly committedAt: number;
  readonly checkpointSize: number;
  readonly mapKeys: SubjectMapKeys;
  /** A leaf of the bundle's JSON form for any logged disclosure (to add one of another subject). */
  leafOf(eventId: string): SubjectMapBundleJson['subjects'][number]['leaves'][number];
}

let clock = 1_764_000_000_000_000;

/** A valid DisclosureRecorded about a pseudonym (the shape ingest stores). */
export function disclosureAbout(pseudonym: string, n: number): DisclosureRecorded {
  clock += 1_000_000;
  return {
    eventId: randomUUID(),
    occurredAt: clock,
    sourceSystem: 'nemkonto',
    controllerCvr: '34051178',
    activity: 'nemkonto-register',
    subject: { scheme: 'PSEUDONYM', value: pseudonym },
    recipient: n % 2 === 0 ? { id: 'danish-tax-authority', role: 'PUBLIC_AUTHORITY' } : { id: 'kmd', role: 'PROCESSOR' },
    purpose: 'nemkonto-payments',
    legalBases: ['LBK_494_2023', 'GDPR_ART6_1_E'],
    dataCategories: ['transaction-history'],
    transfer: null,
    personalDetails: null,
    correlationId: `payment-${n}`,
  } as DisclosureRecorded;
}

export function buildSubjectMapBundle(options: BuildBundleOptions): BuiltBundle {
  const codec = sharedCodec;
  const origin = logOrigin(options.logId ?? 'map-test');
  const logKey = options.logKey ?? generateSigningKey();
  const witnesses = (options.witnesses ?? ['datatilsynet', 'rigsrevisionen']).map((name) => createCosigner(name, generateKeyPairSync('ed25519').privateKey));
  const mapKeys = subjectMapKeys(options.mapKey ?? createHash('sha256').update('subject map key for tests').digest());
  const map = new SubjectMap({ saltOf: mapKeys.saltOf });
  const entries: Buffer[] = [];
  const disclosures: BuiltDisclosure[] = [];
  let batch: MapEntry[] = [];
  let n = 0;

  const indexOf = (p: string): Buffer => (options.indexOf ? options.indexOf(p, mapKeys.indexOf(p)) : mapKeys.indexOf(p));
  const commit = (root: Buffer, size = entries.length, occurredAt = (clock += 1_000_000)): number => {
    const at = entries.length;
    const event: SubjectMapCommitted = { eventId: randomUUID(), occurredAt, treeSize: size, rootHash: root } as SubjectMapCommitted;
    entries.push(codec.encode('SubjectMapCommitted', event));
    return at;
  };
  const mapRootNow = (): Buffer => {
    map.apply(batch, entries.length);
    batch = [];
    return map.root();
  };
  const append = (item: string | null): BuiltDisclosure | undefined => {
    if (item === null) {
      commit(mapRootNow());
      return undefined;
    }
    const d = disclosureAbout(item, n++);
    const bytes = codec.encode('DisclosureRecorded', d);
    const leafIndex = entries.length;
    entries.push(bytes);
    batch.push({ index: indexOf(item), logIndex: leafIndex, leafHash: leafHash(bytes) });
    const built = { eventId: d.eventId, pseudonym: item, leafIndex, bytes };
    disclosures.push(built);
    return built;
  };

  for (const item of options.covered) append(item);
  const root = mapRootNow();
  const treeSize = entries.length;
  const committedAt = options.committedAt ?? Date.now() * 1000;
  const commitmentIndex = commit(options.commitRoot ? options.commitRoot(root) : root, options.commitSize ? options.commitSize(treeSize) : treeSize, committedAt);
  const proofs = options.citizen.map((p) => encodeMapProof(map.prove(indexOf(p))));
  // After the commitment: in the log, not yet under the bundle's map (later commitments go on, as the checkpointer's would).
  for (const item of options.after ?? []) append(item);
  for (let i = 0; i < (options.unlogged ?? 0); i++) disclosures.push({ eventId: randomUUID(), pseudonym: options.citizen[0]!, leafIndex: null, bytes: null });

  const hashes = entries.map((e) => leafHash(e));
  const signed = signTreeHead({ origin, treeSize: entries.length, rootHash: rootFromLeafHashes(hashes) }, logKey);
  const body = signed.slice(0, signed.indexOf('\n\n') + 1);
  const checkpoint = `${signed}${witnesses.map((w, i) => `${w.cosign(body, 1_764_000_000n + BigInt(i))}\n`).join('')}`;
  const vkey = verifierKeyString(origin, logKey.publicKeyRaw);
  const policy = formatPolicy({ logs: [{ vkey }], witnesses: witnesses.map((w) => ({ name: w.name, vkey: w.vkey })) });

  const leafOf = (eventId: string) => {
    const d = disclosures.find((x) => x.eventId === eventId);
    if (!d || d.leafIndex === null || !d.bytes) throw new Error(`no logged disclosure ${eventId}`);
    return { eventId: d.eventId, leafIndex: d.leafIndex, leafHash: leafHash(d.bytes).toString('base64'), event: d.bytes.toString('base64') };
  };
  const mine = new Set(options.citizen);
  const citizens = disclosures.filter((d) => mine.has(d.pseudonym));
  // A subject's leaves are what the map files under its index (by pseudonym, unless the map mislabels).
  const covered = disclosures.filter((d) => d.leafIndex !== null && d.leafIndex < treeSize);
  const bundle: SubjectMapBundleJson = {
    format: SUBJECT_MAP_BUNDLE_FORMAT,
    origin,
    checkpoint,
    commitment: { leafIndex: commitmentIndex, event: entries[commitmentIndex]!.toString('base64'), inclusionProof: inclusionProof(hashes, commitmentIndex).map((h) => h.toString('base64')) },
    subjects: options.citizen.map((p, i) => ({
      index: indexOf(p).toString('hex'),
      proof: proofs[i]!.toString('base64'),
      leaves: covered.filter((d) => indexOf(d.pseudonym).equals(indexOf(p))).map((d) => leafOf(d.eventId)),
    })),
    pending: citizens.filter((d) => d.leafIndex === null || d.leafIndex >= treeSize).map((d) => ({ eventId: d.eventId, leafIndex: d.leafIndex })),
  };
  const inBundle = [...bundle.subjects.flatMap((s) => s.leaves.map((l) => l.eventId)), ...bundle.pending.map((p) => p.eventId)];
  return {
    bundle,
    origin,
    vkey,
    policy,
    logKey,
    witnesses,
    disclosures,
    listed: inBundle,
    entries,
    treeSize,
    committedAt,
    checkpointSize: entries.length,
    mapKeys,
    leafOf,
  };
}

/** A deep copy to alter (the bundle is plain JSON). */
export const cloneBundle = (b: SubjectMapBundleJson): SubjectMapBundleJson => JSON.parse(JSON.stringify(b)) as SubjectMapBundleJson;

/** The three ways an operator could shorten, pad or shuffle a citizen's list, applied to subject 0. */
export function alteredBundles(built: BuiltBundle): { omit: SubjectMapBundleJson; extra: SubjectMapBundleJson; reorder: SubjectMapBundleJson } {
  const omit = cloneBundle(built.bundle);
  omit.subjects[0]!.leaves.splice(1, 1);
  const extra = cloneBundle(built.bundle);
  const mine = new Set(extra.subjects.flatMap((s) => s.leaves.map((l) => l.eventId)));
  const other = built.disclosures.find((d) => !mine.has(d.eventId) && d.leafIndex !== null && d.leafIndex < built.treeSize && !built.listed.includes(d.eventId));
  if (!other) throw new Error('the log needs a covered disclosure of someone else to add');
  const leaves = extra.subjects[0]!.leaves;
  leaves.push(built.leafOf(other.eventId));
  leaves.sort((a, b) => a.leafIndex - b.leafIndex);
  const reorder = cloneBundle(built.bundle);
  const r = reorder.subjects[0]!.leaves;
  [r[0], r[1]] = [r[1]!, r[0]!];
  return { omit, extra, reorder };
}
