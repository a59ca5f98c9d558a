/**
 * The checks that a citizen's page speaks words, not codes, shared by the rendered-page unit test and
 * the browser tests: every id and code the register files use, every `{ en, da }` text they hold, and
 * which codes stand as a word of their own in a page's visible text.
 */
import { RECIPIENT_ROLES, TRANSFER_SAFEGUARDS, CONSENT_SCOPES, DATA_SUBJECT_RIGHT_KINDS, type RegisterFiles } from '@sporbar/schemas';

/** Every `{ en, da }` text of the register files (not the sources' quotes, not the internal remarks). */
export function registerTexts(files: RegisterFiles): Array<{ en: string; da: string }> {
  const out: Array<{ en: string; da: string }> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (typeof o['en'] === 'string' && typeof o['da'] === 'string' && Object.keys(o).length === 2) out.push(o as { en: string; da: string });
      else for (const [k, v] of Object.entries(o)) if (k !== 'sources' && k !== 'remarks') walk(v);
    }
  };
  walk([files.shared, ...files.versions.map((v) => v.file)]);
  return out;
}

/** Every id and code the register files use, and the enums' codes (roles, safeguards, consent scopes, rights). */
export function registerCodes(files: RegisterFiles, extra: Iterable<string> = []): string[] {
  const ids = new Set<string>(extra);
  const walk = (node: unknown, key = ''): void => {
    if (Array.isArray(node)) { node.forEach((x) => walk(x, key)); return; }
    if (node !== null && typeof node === 'object') { for (const [k, v] of Object.entries(node)) if (k !== 'sources' && k !== 'remarks') walk(v, k); return; }
    if (typeof node === 'string' && (key === 'id' || /Ids?$/.test(key) || ['role', 'roles', 'safeguard', 'right', 'legalBases', 'consentScopes', 'countries', 'kind', 'status', 'requiredLegalBasis', 'notice'].includes(key))) ids.add(node);
  };
  walk([files.shared, ...files.versions.map((v) => v.file)]);
  for (const c of [...RECIPIENT_ROLES, ...TRANSFER_SAFEGUARDS, ...CONSENT_SCOPES, ...DATA_SUBJECT_RIGHT_KINDS]) ids.add(c);
  return [...ids];
}

/** The codes that stand as a word of their own in `text` (what a person sees on the page). */
export function codesIn(text: string, files: RegisterFiles, codes: readonly string[] = registerCodes(files)): string[] {
  const naturalWords = new Set(registerTexts(files).flatMap((t) => `${t.en} ${t.da}`.toLowerCase().split(/[^\p{L}\p{N}-]+/u)));
  return codes.filter((code) => {
    // An id that is also an ordinary word of the register's own texts ("name", "address", "self-service") is not a code on the page.
    if (/^[a-z-]+$/.test(code) && naturalWords.has(code)) return false;
    const escaped = code.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // A word on its own: not part of a longer word, an e-mail address or a host name (digst@digst.dk, www.datatilsynet.dk).
    return new RegExp(`(?<![\\p{L}\\p{N}_@.-])${escaped}(?![\\p{L}\\p{N}_@-]|\\.\\p{L})`, 'u').test(text);
  });
}

/** Register texts of the other language found in `text`: English ones on a Danish page, or Danish ones on an English page. */
export function otherLanguageTexts(text: string, files: RegisterFiles, lang: 'da' | 'en'): string[] {
  const all = registerTexts(files);
  return lang === 'da'
    ? all.filter((t) => t.en !== t.da && t.en.length > 3).map((t) => t.en).filter((en) => text.includes(en))
    : all.filter((t) => t.en !== t.da && t.da.length > 12 && !t.en.includes(t.da)).map((t) => t.da).filter((da) => text.includes(da));
}
