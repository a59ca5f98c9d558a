import type { DisclosureItem } from '@sporbar/projections';
import { type DecryptRequest, keyScope, type SubjectKeyStore } from '@sporbar/key-store';

/** What the report says about one disclosure's personal details. */
export type DetailsView =
  | null
  | { readonly status: 'ok'; readonly values: Readonly<Record<string, string>> }
  | { readonly status: 'erased'; readonly erasedAt: string; readonly cause: string }
  | { readonly status: 'unreadable' };

/**
 * The details of each item, opened (index for index): only items that carry details cost a key
 * lookup and a decryption; a page without any (the common case) costs nothing more.
 * After erasure or retention expiry the key is gone: the entry shows as erased — who, why and when
 * remain, the details do not. A tampered blob shows as unreadable, never as an error page.
 *
 * `decryptMany` asks the key table, in one indexed query per page, which of the page's key ids are
 * shredded: a shred committed by the ingest (or any other process) before this request shows here,
 * in every API instance, whatever its key cache holds (docs/architecture.md, "Erasure is immediate").
 */
export async function openDetails(keys: SubjectKeyStore | undefined, subject: string, items: readonly DisclosureItem[]): Promise<DetailsView[]> {
  const views: DetailsView[] = new Array<DetailsView>(items.length).fill(null);
  if (!keys) return views;
  const at: number[] = [];
  const requests: DecryptRequest[] = [];
  items.forEach((item, i) => {
    if (!item.details) return;
    at.push(i);
    requests.push({ subject: keyScope(item.subject ?? subject, item.activity), eventId: item.eventId, blob: item.details });
  });
  if (requests.length === 0) return views;
  const results = await keys.decryptMany(requests);
  results.forEach((r, n) => {
    const i = at[n]!;
    if (r.status === 'ok') views[i] = { status: 'ok', values: { ...r.details } as Record<string, string> };
    else if (r.status === 'shredded') views[i] = { status: 'erased', erasedAt: new Date(r.shreddedAt).toISOString(), cause: r.cause };
    else views[i] = { status: 'unreadable' };
  });
  return views;
}

/**
 * Decrypts the details of the subject's own disclosures for their report (or a caseworker's view):
 * each item with its encrypted blob replaced by what can be shown of it.
 */
export async function withDetails(keys: SubjectKeyStore | undefined, subject: string, items: readonly DisclosureItem[]): Promise<Array<Omit<DisclosureItem, 'details'> & { details: DetailsView }>> {
  const views = await openDetails(keys, subject, items);
  return items.map((item, i) => ({ ...item, details: views[i]! }));
}
