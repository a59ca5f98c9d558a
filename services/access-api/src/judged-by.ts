import { describeNoticeVersion, noticeVersionByHash, type RegisterFiles } from '@sporbar/schemas';
import type { DisclosureItem } from '@sporbar/projections';
import type { Lang } from './html/i18n.ts';

export type JudgedBy = NonNullable<DisclosureItem['judgedBy']>;

/**
 * The notice version a disclosure was judged by, in words: 'MitID privacy notice version 1.6' (its
 * title in the language, from the register files by the content hash the ingest stored). A version
 * these files do not hold (the API runs with another register directory) is named by its id and
 * version as stored. Pure.
 */
export function judgedByText(j: JudgedBy, files: RegisterFiles, lang: Lang): string {
  const v = noticeVersionByHash(files, j.sha256);
  if (v !== undefined) return describeNoticeVersion(v, lang);
  return `${j.notice} ${j.version ?? (lang === 'da' ? '(uden versionsnummer)' : '(no version stated)')}`;
}

/** Each item's `judgedBy` with its words added (English: the JSON is the API's, not a page). */
export function withJudgedByText<T extends Pick<DisclosureItem, 'judgedBy'>>(items: readonly T[], files: RegisterFiles): Array<Omit<T, 'judgedBy'> & { judgedBy: (JudgedBy & { text: string }) | null }> {
  return items.map((i) => ({ ...i, judgedBy: i.judgedBy === null ? null : { ...i.judgedBy, text: judgedByText(i.judgedBy, files, 'en') } }));
}
