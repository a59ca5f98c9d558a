import type { Codec } from '@sporbar/schemas';
import { describeSubjectMapVerdict, SUBJECT_MAP_BUNDLE_FORMAT, verifySubjectMapBundle, type SubjectMapBundleVerdict } from './map/index.ts';
import { formatPolicy, parsePolicy, parseVkey, SIG_TYPE_ED25519, TLOG_PROOF_HEADER, verifyTlogProof, type TlogPolicy, type TlogProofCheck } from './note/index.ts';

/**
 * `sporbar-audit verify-proof`: a citizen's downloaded `.tlog-proof` checked offline, with nothing
 * but the file and a witness policy (or the log's verifier key alone), and what it proves said in
 * plain words: which log, which entry of how large a tree, which witnesses cosigned, and the event
 * the entry is (its bytes decoded with the schemas' codec).
 */

/** The policy a log without witnesses is judged by: that log, `quorum none`. */
export function keyOnlyPolicy(vkey: string): TlogPolicy {
  const key = parseVkey(vkey.trim());
  if (key.type !== SIG_TYPE_ED25519) throw new Error("the log's verifier key must be an Ed25519 (type 0x01) key, as GET /v1/log/key gives it");
  return parsePolicy(formatPolicy({ logs: [{ vkey: vkey.trim() }], witnesses: [], quorum: 'none' }));
}

export interface ProofVerdict {
  readonly ok: boolean;
  readonly check: TlogProofCheck;
  /** What a person reads, one fact a line. */
  readonly text: string;
}

const micros = (us: unknown): string => (typeof us === 'number' ? new Date(Math.floor(us / 1000)).toISOString() : String(us));

/** The entry's event in words; an entry the codec cannot read is said so (the proof still holds). */
function describeEntry(codec: Codec, entry: Buffer): string[] {
  let decoded;
  try {
    decoded = codec.decode(entry);
  } catch (err) {
    return [`entry: ${entry.length} bytes the schemas cannot decode (${(err as Error).message})`];
  }
  const e = decoded.event as unknown as Record<string, unknown>;
  const lines = [`event: ${decoded.eventType} (schema version ${decoded.writerVersion}), eventId ${String(e['eventId'])}`, `  occurred at: ${micros(e['occurredAt'])}`];
  const recipient = e['recipient'] as { id?: string; role?: string } | undefined;
  if (recipient) lines.push(`  recipient: ${recipient.id} (${recipient.role})`);
  if (typeof e['purpose'] === 'string') lines.push(`  purpose: ${e['purpose']}`);
  if (typeof e['activity'] === 'string') lines.push(`  activity: ${e['activity']}`);
  if (Array.isArray(e['legalBases'])) lines.push(`  legal bases: ${(e['legalBases'] as string[]).join(', ')}`);
  if (Array.isArray(e['dataCategories'])) lines.push(`  data categories: ${(e['dataCategories'] as string[]).join(', ')}`);
  if (typeof e['sourceSystem'] === 'string') lines.push(`  disclosed by: ${e['sourceSystem']}${typeof e['controllerCvr'] === 'string' ? `, data controller CVR ${e['controllerCvr']}` : ''}`);
  const subject = e['subject'] as { scheme?: string; value?: string } | undefined;
  if (subject) lines.push(`  subject: ${subject.scheme} pseudonym ${subject.value}`);
  return lines;
}

/** Verifies a tlog-proof under a policy and says what it proves (or why it does not hold). Pure. */
export function verifyProofFile(text: string | Uint8Array, policy: TlogPolicy, codec: Codec, options: { origin?: string } = {}): ProofVerdict {
  const check = verifyTlogProof(text, policy, options);
  const witnessLines = check.witnesses.map((w) => `  ${w.name}: ${w.status === 'cosigned' ? `cosigned at ${w.time}` : w.status === 'absent' ? 'no cosignature' : `invalid (${w.reason})`}`);
  if (!check.ok) {
    return { ok: false, check, text: [`NOT PROVEN: ${check.reason}`, ...(witnessLines.length ? ['witnesses:', ...witnessLines] : [])].join('\n') + '\n' };
  }
  const cosigned = check.witnesses.filter((w) => w.status === 'cosigned').map((w) => w.name);
  const lines = [
    `PROVEN: entry ${check.index} is in log ${check.origin}, in its signed checkpoint of ${check.treeSize} entries`,
    `log: ${check.origin}`,
    `index: ${check.index}`,
    `tree size: ${check.treeSize}`,
    `witnesses: ${cosigned.length ? `cosigned by ${cosigned.join(', ')}` : 'none cosigned'} (the policy asks for ${check.quorum})`,
    ...witnessLines,
    ...describeEntry(codec, check.entry),
  ];
  return { ok: true, check, text: `${lines.join('\n')}\n` };
}

/** What `verify-proof` was given, and what it found. */
export type DownloadVerdict =
  | { readonly kind: 'tlog-proof'; readonly ok: boolean; readonly check: TlogProofCheck; readonly text: string }
  | { readonly kind: 'subject-map' | 'report-copy'; readonly ok: boolean; readonly verdict: SubjectMapBundleVerdict; readonly text: string }
  | { readonly kind: 'unknown'; readonly ok: false; readonly text: string };

export interface VerifyDownloadOptions {
  readonly origin?: string;
  /** For a subject map proof: the oldest map accepted, in seconds (0: no check; default 7 h, see verifySubjectMapBundle). */
  readonly maxAgeSeconds?: number;
  /** …judged at this time (ms since the epoch; default now). */
  readonly now?: number;
}

/** The report copy's format (GET /v1/me/report.json), which embeds the bundle as `subjectMap`. */
export const REPORT_COPY_FORMAT = 'sporbar-report-copy/1';

/**
 * Any file a citizen downloads to check, told apart by its content: a C2SP `.tlog-proof` (one
 * disclosure is in the log), a subject map proof bundle (GET /v1/me/subject-map: these are all the
 * disclosures about me up to a tree size), or a report.json copy (its `subjectMap` bundle, and its
 * `disclosures` checked to be exactly the bundle's). Pure.
 */
export function verifyDownloadedFile(text: string | Uint8Array, policy: TlogPolicy, codec: Codec, options: VerifyDownloadOptions = {}): DownloadVerdict {
  const s = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  if (s.startsWith(`${TLOG_PROOF_HEADER}\n`)) {
    const v = verifyProofFile(s, policy, codec, options.origin === undefined ? {} : { origin: options.origin });
    return { kind: 'tlog-proof', ok: v.ok, check: v.check, text: v.text };
  }
  const unknown = (why: string): DownloadVerdict => ({ kind: 'unknown', ok: false, text: `NOT PROVEN: ${why}\n` });
  let json: unknown;
  try {
    json = JSON.parse(s);
  } catch {
    return unknown(`the file is neither a .tlog-proof (its first line is not ${TLOG_PROOF_HEADER}) nor JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return unknown('the file is JSON, but not an object');
  const o = json as Record<string, unknown>;
  if (o['format'] === SUBJECT_MAP_BUNDLE_FORMAT) {
    const verdict = verifySubjectMapBundle(o, policy, codec, options);
    return { kind: 'subject-map', ok: verdict.ok, verdict, text: describeSubjectMapVerdict(verdict) };
  }
  if ('subjectMap' in o || o['format'] === REPORT_COPY_FORMAT) {
    if (!('subjectMap' in o) || o['subjectMap'] === null) return unknown('this report copy holds no subject map proof (it was made before the log committed a map, or without one): there is nothing to check its completeness against');
    const disclosures = o['disclosures'];
    if (!Array.isArray(disclosures) || !disclosures.every((d) => typeof d === 'object' && d !== null && typeof (d as { eventId?: unknown }).eventId === 'string')) {
      return unknown("the report copy's disclosures are not a list of disclosures with an eventId each");
    }
    const listed = disclosures.map((d) => (d as { eventId: string }).eventId);
    const verdict = verifySubjectMapBundle(o['subjectMap'], policy, codec, { ...options, listed });
    return { kind: 'report-copy', ok: verdict.ok, verdict, text: describeSubjectMapVerdict(verdict) };
  }
  return unknown(`the file is JSON, but neither a subject map proof (format ${SUBJECT_MAP_BUNDLE_FORMAT}) nor a report copy with one (subjectMap and disclosures)`);
}
