import type { DisclosureItem } from '@sporbar/projections';
import { keyScope, type SubjectKeyStore } from '@sporbar/schemas';

/** What the report says about one disclosure's personal details. */
export type DetailsView =
  | null
  | { readonly status: 'ok'; readonly values: Readonly<Record<string, string>> }
  | { readonly status: 'erased'; readonly erasedAt: string; readonly cause: string }
  | { readonly status: 'unreadable' };

/**
 * Decrypts the details of the subject's own disclosures for their report (or a caseworker's view).
 * After erasure or retention expiry the key is gone: the entry shows as erased — who, why and when
 * remain, the details do not. A tampered blob shows as unreadable, never as an error page.
 */
export async function withDetails(keys: SubjectKeyStore | undefined, subject: string, items: readonly DisclosureItem[]) {
  return Promise.all(
    items.map(async ({ details, ...item }) => {
      let view: DetailsView = null;
      if (details && keys) {
        const r = await keys.decrypt(keyScope(item.subject ?? subject, item.activity), item.eventId, details);
        if (r.status === 'ok') view = { status: 'ok', values: { ...r.details } as Record<string, string> };
        else if (r.status === 'shredded') view = { status: 'erased', erasedAt: new Date(r.shreddedAt).toISOString(), cause: r.cause };
        else view = { status: 'unreadable' };
      }
      return { ...item, details: view };
    }),
  );
}
