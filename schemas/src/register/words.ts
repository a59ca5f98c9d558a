/**
 * The register's words: the display text of every id and code the register uses, in Danish or English,
 * taken from the register files (shared.yaml's vocabularies and each notice version's `{ en, da }` texts).
 * Nothing here is written in code: a DPO adds a term's words to the files, `sporbar-register validate`
 * refuses files that use a code without them (`registerWordIssues`). Pure.
 *
 * Where several versions of one notice give the same id different words, the latest version's words
 * win (files.versions is sorted by notice, then effective.from); ids only an older version names keep theirs.
 */
import type { RegisterFiles } from './load-register.ts';
import type { NoticeVersionFile, SharedFile, Text } from './register-files.ts';
import { describeRetentionIn } from './retention.ts';
import {
  AUTOMATED_DECISIONS_STATUSES,
  CONSENT_SCOPES,
  DATA_SUBJECT_RIGHT_KINDS,
  RECIPIENT_ROLES,
  TRANSFER_SAFEGUARDS,
  type AutomatedDecisionsStatus,
  type RetentionPeriod,
} from './types.ts';

export type Lang = 'en' | 'da';
export const LANGS: readonly Lang[] = ['da', 'en'];

/** What a notice says about automated decisions, as a citizen reads it. */
export interface AutomatedDecisionsWords {
  readonly status: AutomatedDecisionsStatus;
  readonly text: string;
}

export interface RetentionWords {
  /** The notice's rule in words ("Optagede supportopkald slettes efter 30 dage."). */
  readonly text: string;
  /** The period in words ("slettes efter 30 dage"). */
  readonly period: string;
  readonly condition?: string;
  /** What the clock starts from ("opkaldet"). */
  readonly startsAt: string;
}

export interface ThirdCountryWords {
  readonly countries: string;
  /** The safeguard's name, and the notice's own words on it when it gives them. */
  readonly safeguard: string;
  readonly condition: string;
}

/** The display text of every id and code of the register, in one language. Unknown ids come back as they are (`has` tells). */
export interface RegisterWords {
  readonly lang: Lang;
  has(kind: WordKind, id: string): boolean;
  noticeTitle(noticeId: string): string;
  thirdCountryPolicy(noticeId: string): string;
  rightsCaveat(noticeId: string): string;
  automatedDecisions(noticeId: string): AutomatedDecisionsWords;
  activity(id: string): string;
  activityText(id: string): string;
  dataSubjects(activityId: string): string[];
  purpose(id: string): string;
  category(id: string): string;
  categoryText(id: string): string;
  recipient(id: string): string;
  recipientText(id: string): string;
  roleNote(recipientId: string): string | undefined;
  role(code: string): string;
  roleText(code: string): string;
  /** "Title (reference)", e.g. "Samtykke (Databeskyttelsesforordningens artikel 6, stk. 1, litra a)". */
  legalBasis(id: string): string;
  legalBasisTitle(id: string): string;
  retention(ruleId: string): RetentionWords;
  thirdCountry(ruleId: string): ThirdCountryWords;
  safeguard(code: string): string;
  country(code: string): string;
  right(kind: string): string;
  rightText(kind: string): string;
  rightReason(rightId: string): string | undefined;
  rightChannels(rightId: string): string[];
  consentScope(code: string): string;
  detailField(key: string): string;
  collectionSource(id: string): string;
  collectionSourceText(id: string): string;
}

export type WordKind =
  | 'notice' | 'activity' | 'purpose' | 'category' | 'recipient' | 'role' | 'legalBasis' | 'retentionRule' | 'thirdCountryRule'
  | 'safeguard' | 'country' | 'right' | 'rightEntry' | 'consentScope' | 'detailField' | 'collectionSource';

const AUTOMATED_NOT_STATED: Text = {
  en: 'The privacy notice says nothing about automated decisions, including profiling.',
  da: 'Privatlivspolitikken siger intet om automatiske afgørelser, herunder profilering.',
};

/** "ipAddress" → "Ip address": a field no vocabulary names still reads as words, never as camelCase. */
const humanise = (key: string): string => {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words.length === 0 ? key : words[0]!.toUpperCase() + words.slice(1);
};

interface Table {
  readonly notices: Map<string, NoticeVersionFile>;
  readonly byKind: Map<WordKind, Map<string, Record<string, unknown>>>;
}

function tableOf(shared: SharedFile, versions: readonly NoticeVersionFile[]): Table {
  const byKind = new Map<WordKind, Map<string, Record<string, unknown>>>();
  const put = (kind: WordKind, items: readonly { id: string }[] | undefined, merge = true): void => {
    let m = byKind.get(kind);
    if (m === undefined) { m = new Map(); byKind.set(kind, m); }
    for (const item of items ?? []) m.set(item.id, merge ? { ...(m.get(item.id) ?? {}), ...stripUndefined(item) } : (item as unknown as Record<string, unknown>));
  };
  // Shared definitions first; the notice files (which may define or only reference an item) merge over them.
  put('legalBasis', shared.legalBases);
  put('category', shared.dataCategories);
  put('recipient', shared.recipients);
  put('collectionSource', shared.collectionSources);
  put('role', shared.roles);
  put('safeguard', shared.safeguards);
  put('right', shared.rights);
  put('consentScope', shared.consentScopes);
  put('country', shared.countries);
  put('detailField', shared.detailFields);
  const notices = new Map<string, NoticeVersionFile>();
  for (const v of versions) {
    notices.set(v.notice, v);
    put('purpose', v.purposes);
    put('category', v.dataCategories);
    put('recipient', v.recipients);
    put('retentionRule', v.retentionRules);
    put('thirdCountryRule', v.thirdCountryRules);
    put('collectionSource', v.collectionSources);
    put('rightEntry', v.rights);
    put('activity', v.activities);
  }
  return { notices, byKind };
}

const stripUndefined = (o: object): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const memo = new WeakMap<object, Map<Lang, RegisterWords>>();

/**
 * The words of some register files in one language (every notice version, the latest winning). Memoised
 * per files object and language.
 */
export function registerWords(files: RegisterFiles, lang: Lang): RegisterWords {
  let byLang = memo.get(files);
  if (byLang === undefined) { byLang = new Map(); memo.set(files, byLang); }
  let w = byLang.get(lang);
  if (w === undefined) { w = wordsOf(files.shared, files.versions.map((v) => v.file), lang); byLang.set(lang, w); }
  return w;
}

/** The words of a shared file and some notice-version files (in order; a later file's words win). Pure. */
export function wordsOf(shared: SharedFile, versions: readonly NoticeVersionFile[], lang: Lang): RegisterWords {
  const t = tableOf(shared, versions);
  const get = (kind: WordKind, id: string): Record<string, unknown> | undefined => t.byKind.get(kind)?.get(id);
  const txt = (v: unknown): string | undefined => (v !== null && typeof v === 'object' && lang in v ? (v as Text)[lang] : undefined);
  const field = (kind: WordKind, id: string, key: string, fallback: string = id): string => txt(get(kind, id)?.[key]) ?? fallback;
  const regionNames = new Intl.DisplayNames([lang === 'da' ? 'da' : 'en'], { type: 'region', fallback: 'code' });
  const notice = (id: string): NoticeVersionFile | undefined => t.notices.get(id);
  const country = (code: string): string => txt(get('country', code)?.['name']) ?? (/^[A-Z]{2}$/.test(code) ? regionNames.of(code) ?? code : code);
  const safeguard = (code: string): string => field('safeguard', code, 'name');

  return {
    lang,
    has: (kind, id) => (kind === 'notice' ? t.notices.has(id) : get(kind, id) !== undefined),
    noticeTitle: (id) => txt(notice(id)?.title) ?? id,
    thirdCountryPolicy: (id) => txt(notice(id)?.thirdCountryPolicy) ?? '',
    rightsCaveat: (id) => txt(notice(id)?.rightsCaveat) ?? '',
    automatedDecisions(id) {
      const a = notice(id)?.automatedDecisions ?? { status: 'not-stated' as const };
      return { status: a.status, text: txt(a.text) ?? AUTOMATED_NOT_STATED[lang] };
    },
    activity: (id) => field('activity', id, 'name'),
    activityText: (id) => field('activity', id, 'text', ''),
    dataSubjects: (id) => ((get('activity', id)?.['dataSubjects'] ?? []) as Text[]).map((s) => s[lang]),
    purpose: (id) => field('purpose', id, 'text'),
    category: (id) => field('category', id, 'name'),
    categoryText: (id) => field('category', id, 'text', ''),
    recipient: (id) => field('recipient', id, 'name'),
    recipientText: (id) => field('recipient', id, 'text', ''),
    roleNote: (id) => txt(get('recipient', id)?.['roleNote']),
    role: (code) => field('role', code, 'name'),
    roleText: (code) => field('role', code, 'text', ''),
    legalBasis(id) {
      const title = field('legalBasis', id, 'title');
      const ref = txt(get('legalBasis', id)?.['reference']);
      return ref === undefined || id === 'NOT_STATED' ? title : `${title} (${ref})`;
    },
    legalBasisTitle: (id) => field('legalBasis', id, 'title'),
    retention(id) {
      const r = get('retentionRule', id);
      if (r === undefined) return { text: id, period: '', startsAt: '' };
      const condition = txt(r['condition']);
      return {
        text: txt(r['text']) ?? id, period: describeRetentionIn(r['period'] as RetentionPeriod, lang), startsAt: txt(r['startsAt']) ?? '',
        ...(condition === undefined ? {} : { condition }),
      };
    },
    thirdCountry(id) {
      const r = get('thirdCountryRule', id);
      if (r === undefined) return { countries: '', safeguard: id, condition: '' };
      const countries = r['countries'] === 'ANY'
        ? (lang === 'da' ? 'ethvert land uden for EU/EØS' : 'any country outside the EU/EEA')
        : listOf((r['countries'] as string[]).map(country), lang);
      const own = txt(r['safeguardText']);
      const name = safeguard(r['safeguard'] as string);
      return { countries, safeguard: own === undefined ? name : `${name}: ${own}`, condition: txt(r['condition']) ?? '' };
    },
    safeguard,
    country,
    right: (kind) => field('right', kind, 'name'),
    rightText: (kind) => field('right', kind, 'text', ''),
    rightReason: (id) => txt(get('rightEntry', id)?.['reason']),
    rightChannels: (id) => ((get('rightEntry', id)?.['channels'] ?? []) as Text[]).map((c) => c[lang]),
    consentScope: (code) => field('consentScope', code, 'name'),
    detailField: (key) => txt(get('detailField', key)?.['name']) ?? humanise(key),
    collectionSource: (id) => field('collectionSource', id, 'name'),
    collectionSourceText: (id) => field('collectionSource', id, 'text', ''),
  };
}

/** "A, B og C" / "A, B and C". */
export function listOf(items: readonly string[], lang: Lang): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${lang === 'da' ? 'og' : 'and'} ${items[items.length - 1]!}`;
}

/** A missing or blank word `registerWordIssues` found; `file` and `path` point at it. */
export interface WordIssue {
  readonly file: string;
  readonly path: string;
  readonly message: string;
}

/**
 * Every place the register files lack a citizen-facing word: a role, safeguard, right or consent scope
 * (every member of the enum, since any may be recorded) or a country a rule names without an entry in
 * shared.yaml's vocabularies, and any `{ en, da }` text with a blank side. Pure; empty when complete.
 */
export function registerWordIssues(files: Pick<RegisterFiles, 'shared'> & { readonly versions: readonly { readonly path: string; readonly file: NoticeVersionFile }[] }): WordIssue[] {
  const issues: WordIssue[] = [];
  const shared = files.shared;
  const vocab = (section: keyof SharedFile, codes: readonly string[], what: string): void => {
    const list = (shared[section] ?? []) as readonly { id: string }[];
    const seen = new Set<string>();
    list.forEach((d, i) => {
      if (seen.has(d.id)) issues.push({ file: 'shared.yaml', path: `#/${section}/${i}`, message: `${what} "${d.id}" is given words twice` });
      seen.add(d.id);
    });
    for (const c of codes) if (!seen.has(c)) issues.push({ file: 'shared.yaml', path: `#/${section}`, message: `${what} "${c}" has no words (name in en and da)` });
  };
  vocab('roles', RECIPIENT_ROLES, 'role');
  vocab('safeguards', TRANSFER_SAFEGUARDS, 'safeguard');
  vocab('rights', DATA_SUBJECT_RIGHT_KINDS, 'right');
  vocab('consentScopes', CONSENT_SCOPES, 'consent scope');
  const countries = new Set<string>();
  for (const v of files.versions) for (const r of v.file.thirdCountryRules) if (Array.isArray(r.countries)) r.countries.forEach((c) => countries.add(c));
  vocab('countries', [...countries], 'country');
  for (const v of files.versions) {
    const a = v.file.automatedDecisions as { status?: string; text?: unknown } | undefined;
    if (a === undefined || !AUTOMATED_DECISIONS_STATUSES.includes(a.status as AutomatedDecisionsStatus)) {
      issues.push({ file: v.path, path: '#/automatedDecisions', message: 'says nothing on automated decisions (status not-stated, none or described)' });
    } else if (a.status !== 'not-stated' && a.text === undefined) {
      issues.push({ file: v.path, path: '#/automatedDecisions/text', message: `status ${a.status} needs a text in en and da` });
    }
  }
  const walk = (file: string, node: unknown, path: string): void => {
    if (Array.isArray(node)) { node.forEach((x, i) => walk(file, x, `${path}/${i}`)); return; }
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length > 0 && keys.every((k) => k === 'en' || k === 'da')) {
      for (const l of LANGS) if (typeof o[l] !== 'string' || (o[l] as string).trim() === '') issues.push({ file, path: `${path}/${l}`, message: `no ${l === 'da' ? 'Danish' : 'English'} text` });
      return;
    }
    for (const k of keys) if (k !== 'sources' && k !== 'remarks') walk(file, o[k], `${path}/${k}`);
  };
  walk('shared.yaml', shared, '#');
  for (const v of files.versions) walk(v.path, v.file, '#');
  return issues;
}
