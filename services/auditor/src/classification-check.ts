import { CLASSIFICATION_METADATA_KEYS, createDisclosureJudge, registerPublishedId, type DisclosureRecorded, type RegisterPublished, type RegisterSource } from '@sporbar/schemas';

/**
 * The replay's second question: does each stored classification follow from the register of its time?
 * Every DisclosureRecorded is judged again by the notice version in force at its occurredAt (the
 * auditor's own copy of the register files) and compared with the metadata the ingest stored; the
 * version it names must have been published — a RegisterPublished with its content hash (and the
 * shared file's) earlier in the log. Pure apart from its own state; fed in log order.
 */
export type ClassificationFinding =
  | { readonly kind: 'differs'; readonly eventId: string; readonly position: bigint; readonly stored: Readonly<Record<string, string>>; readonly replayed: Readonly<Record<string, string>> }
  /** Judged by a notice version no earlier RegisterPublished names. */
  | { readonly kind: 'unpublished'; readonly eventId: string; readonly position: bigint; readonly notice: string; readonly noticeVersion: string | null; readonly sha256: string };

export interface ClassificationAudit {
  /** Disclosures judged again. */
  readonly checked: number;
  /** Of those, stored before classifications named their notice version: only the classification itself is compared. */
  readonly unnamed: number;
  /** Notice versions published (RegisterPublished) in the part of the log replayed: path → content hash. */
  readonly published: ReadonlyArray<{ readonly path: string; readonly sha256: string; readonly position: bigint }>;
  readonly findings: readonly ClassificationFinding[];
  /** More findings than the limit: only the first are listed. */
  readonly truncated: boolean;
}

export interface ClassificationCheck {
  registerPublished(event: RegisterPublished, position: bigint): void;
  disclosure(event: DisclosureRecorded, metadata: Readonly<Record<string, string>>, position: bigint): void;
  result(): ClassificationAudit;
}

const pick = (m: Readonly<Record<string, string>>, keys: readonly string[]): Record<string, string> =>
  Object.fromEntries(keys.filter((k) => m[k] !== undefined).map((k) => [k, m[k]!]));

export function createClassificationCheck(register: RegisterSource, maxFindings = 1000): ClassificationCheck {
  const judge = createDisclosureJudge(register);
  /** Published (content hash, shared hash) pairs, as their RegisterPublished eventIds. */
  const publishedIds = new Set<string>();
  /** Content hash → shared hashes it was published with. */
  const sharedOf = new Map<string, Set<string>>();
  const published: Array<{ path: string; sha256: string; position: bigint }> = [];
  const findings: ClassificationFinding[] = [];
  let total = 0;
  let checked = 0;
  let unnamed = 0;
  const find = (f: ClassificationFinding) => {
    total++;
    if (findings.length < maxFindings) findings.push(f);
  };
  return {
    registerPublished(e, position) {
      // The eventId must be the one the hashes give: a forged or altered RegisterPublished publishes nothing.
      if (e.eventId.toLowerCase() !== registerPublishedId(e.contentSha256, e.sharedSha256)) return;
      publishedIds.add(e.eventId.toLowerCase());
      let s = sharedOf.get(e.contentSha256);
      if (s === undefined) { s = new Set(); sharedOf.set(e.contentSha256, s); }
      s.add(e.sharedSha256);
      published.push({ path: e.path, sha256: e.contentSha256, position });
    },
    disclosure(e, metadata, position) {
      checked++;
      const replayed = judge(e);
      const named = metadata['noticeSha256'] !== undefined;
      if (!named) unnamed++;
      // Stored before versions were named: compare the classification only.
      const keys = named ? CLASSIFICATION_METADATA_KEYS : CLASSIFICATION_METADATA_KEYS.filter((k) => !k.startsWith('notice'));
      const a = pick(metadata, keys);
      const b = pick(replayed, keys);
      if (JSON.stringify(a, Object.keys(a).sort()) !== JSON.stringify(b, Object.keys(b).sort()) || Object.keys(a).length !== Object.keys(b).length) {
        find({ kind: 'differs', eventId: e.eventId, position, stored: a, replayed: b });
      }
      const sha = metadata['noticeSha256'];
      if (sha !== undefined && !(sharedOf.get(sha)?.size)) {
        find({ kind: 'unpublished', eventId: e.eventId, position, notice: metadata['notice'] ?? '', noticeVersion: metadata['noticeVersion'] ?? null, sha256: sha });
      }
    },
    result: () => ({ checked, unnamed, published: [...published], findings: [...findings], truncated: total > findings.length }),
  };
}

/** For people: one line per finding, after a summary. */
export function formatClassificationAudit(a: ClassificationAudit): string {
  const lines = [
    `classification: ${a.checked} disclosure(s) judged again by the notice version in force when they happened${a.unnamed > 0 ? ` (${a.unnamed} stored before versions were named: classification compared, version not)` : ''}; ${a.findings.length}${a.truncated ? '+' : ''} finding(s)`,
    ...a.published.map((p) => `  published: ${p.path} sha256 ${p.sha256} at position ${p.position}`),
  ];
  for (const f of a.findings) {
    if (f.kind === 'differs') lines.push(`  ${f.eventId} (position ${f.position}): stored ${JSON.stringify(f.stored)} ≠ replayed ${JSON.stringify(f.replayed)}`);
    else lines.push(`  ${f.eventId} (position ${f.position}): judged by ${f.notice} ${f.noticeVersion ?? '(no version)'} (sha256 ${f.sha256}), which no earlier RegisterPublished names`);
  }
  if (a.truncated) lines.push('  … more findings not listed');
  return lines.join('\n');
}
