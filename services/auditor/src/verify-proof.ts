import type { Codec } from '@sporbar/schemas';
import { formatPolicy, parsePolicy, parseVkey, SIG_TYPE_ED25519, verifyTlogProof, type TlogPolicy, type TlogProofCheck } from './note/index.ts';

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
