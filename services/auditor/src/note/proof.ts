import { leafHash as rfcLeafHash, verifyInclusion } from '../merkle/rfc9162.ts';
import { parseSize } from './checkpoint.ts';
import { decodeBase64Strict } from './note.ts';
import { checkCheckpointPolicy, type TlogPolicy, type WitnessCheck } from './policy.ts';

/**
 * C2SP tlog-proof (https://c2sp.org/tlog-proof), pure: an offline-verifiable proof that an entry is in
 * a log, as observed by witnesses.
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64>              optional, opaque (Sporbar: the entry's bytes, the leaf)
 *   index <N>
 *   <base64 hash>               zero or more: the RFC 6962 inclusion proof, leaf's sibling first
 *
 *   <the checkpoint, verbatim, with the log's signature and the witnesses' cosignatures>
 *
 * Sporbar's proofs carry the entry — the stored event's bytes, whose RFC 6962 leaf hash is
 * SHA-256(0x00 ‖ bytes) — in the `extra` line, so one `.tlog-proof` file is all a citizen keeps. The
 * spec says not to trust `extra` implicitly: the verifier hashes it, and the reader of the decoded
 * event (what was disclosed, to whom, when) decides whether it is the disclosure they care about.
 */

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
/** What a tlog-proof file is called: the spec's extension. */
export const TLOG_PROOF_EXTENSION = '.tlog-proof';

export interface TlogProof {
  readonly extra?: Buffer;
  readonly index: number;
  readonly proof: readonly Buffer[];
  /** The signed (and cosigned) checkpoint note. */
  readonly checkpoint: string;
}

export class TlogProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlogProofError';
  }
}

export function formatTlogProof(p: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${p.extra.toString('base64')}`);
  lines.push(`index ${p.index}`, ...p.proof.map((h) => Buffer.from(h).toString('base64')));
  return `${lines.join('\n')}\n\n${p.checkpoint}`;
}

/** Parses a proof; the checkpoint is returned verbatim, not checked here. Throws TlogProofError. */
export function parseTlogProof(input: string | Uint8Array): TlogProof {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  const split = text.indexOf('\n\n');
  if (split < 0) throw new TlogProofError('no empty line separates the proof from the checkpoint');
  const lines = text.slice(0, split).split('\n');
  const checkpoint = text.slice(split + 2);
  if (lines[0] !== TLOG_PROOF_HEADER) throw new TlogProofError(`the first line must be ${TLOG_PROOF_HEADER}`);
  let at = 1;
  let extra: Buffer | undefined;
  if (lines[at]?.startsWith('extra ')) {
    extra = decodeBase64Strict(lines[at]!.slice('extra '.length));
    if (!extra) throw new TlogProofError('the extra line is not canonical base64');
    at++;
  }
  const indexLine = lines[at];
  if (!indexLine?.startsWith('index ')) throw new TlogProofError('an index line must follow the header (and the extra line)');
  const index = parseSize(indexLine.slice('index '.length));
  if (index === undefined) throw new TlogProofError('the index is not a decimal without leading zeroes within 0..2^53-1');
  const proof = lines.slice(at + 1).map((line, i) => {
    const h = decodeBase64Strict(line);
    if (!h || h.length !== 32) throw new TlogProofError(`proof line ${i + 1} is not base64 of a 32-byte hash`);
    return h;
  });
  if (proof.length > 63) throw new TlogProofError('an inclusion proof has at most 63 hashes');
  if (checkpoint === '') throw new TlogProofError('the checkpoint is missing');
  return { ...(extra ? { extra } : {}), index, proof, checkpoint };
}

export type TlogProofCheck =
  | { readonly ok: true; readonly origin: string; readonly index: number; readonly treeSize: number; readonly entry: Buffer; readonly witnesses: readonly WitnessCheck[]; readonly quorum: string }
  | { readonly ok: false; readonly reason: string; readonly witnesses: readonly WitnessCheck[] };

/**
 * The spec's four steps: the leaf hash (SHA-256(0x00 ‖ entry), the entry from `extra` unless given),
 * the log's signature under the policy, the witnesses' quorum, the inclusion proof to the root.
 */
export function verifyTlogProof(input: string | Uint8Array | TlogProof, policy: TlogPolicy, options: { origin?: string; entry?: Uint8Array } = {}): TlogProofCheck {
  let p: TlogProof;
  try {
    p = typeof input === 'object' && 'index' in input ? input : parseTlogProof(input);
  } catch (err) {
    return { ok: false, reason: (err as Error).message, witnesses: [] };
  }
  const entry = options.entry ? Buffer.from(options.entry) : p.extra;
  if (!entry) return { ok: false, reason: 'the proof carries no entry (extra) and none was given', witnesses: [] };
  if (options.entry && p.extra && !p.extra.equals(Buffer.from(options.entry))) return { ok: false, reason: 'the entry given is not the one the proof carries', witnesses: [] };
  const checked = checkCheckpointPolicy(p.checkpoint, policy, options.origin === undefined ? {} : { origin: options.origin });
  if (!checked.ok) return { ok: false, reason: checked.reason, witnesses: checked.witnesses };
  const { size, root, origin } = checked.checkpoint;
  if (p.index >= size) return { ok: false, reason: `entry ${p.index} is not inside the checkpoint's tree of size ${size}`, witnesses: checked.witnesses };
  if (!verifyInclusion(p.index, size, rfcLeafHash(entry), p.proof, root)) {
    return { ok: false, reason: `the inclusion proof of entry ${p.index} does not lead to the checkpoint's root`, witnesses: checked.witnesses };
  }
  return { ok: true, origin, index: p.index, treeSize: size, entry, witnesses: checked.witnesses, quorum: checked.quorum };
}
