import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { FastifyPluginAsync } from 'fastify';
import { SporbarError } from '@sporbar/common/errors';
import type { EventStore } from '@sporbar/event-store';
import type { LogServiceLike } from '@sporbar/log/routes';
import { MAX_BUNDLE_ENTRY_BYTES, TILE_WIDTH, encodeEntryBundle, parseTilePath, tileWidthAt } from '@sporbar/log/tiles';
import { requireRole } from '../auth.ts';

const gzip = promisify(gzipCallback);

/** Whether `Accept-Encoding` allows gzip (not `gzip;q=0`). */
const acceptsGzip = (header: string | undefined): boolean =>
  (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return (coding === 'gzip' || coding === 'x-gzip') && (q === undefined || Number(q.slice(2)) > 0);
  });

/** The log's leaves (the stored events' bytes, in global order) by leaf index. */
export interface EntrySource {
  /** Leaves `from` … `from + count − 1`, in order; fewer only if the store does not hold them (yet). */
  leaves(from: number, count: number): Promise<Uint8Array[]>;
}

/**
 * Leaves read from the event store: with gap-free positions (PostgreSQL, PGlite) leaf i is the event
 * at position i + 1, one range scan per bundle. A store whose positions have gaps (EventStoreDB) cannot
 * map a leaf to a position without the log's own index: refused.
 */
export function storeEntrySource(store: EventStore): EntrySource {
  if (!store.contiguousPositions) throw new SporbarError('SPB_ERR_CONFIG', `entry bundles need an event store with gap-free positions; the ${store.adapter} store has gaps`);
  return {
    async leaves(from, count) {
      const out: Uint8Array[] = [];
      let expected = BigInt(from) + 1n;
      await store.scanAll(
        (e) => {
          if (e.position !== expected) throw new SporbarError('SPB_ERR_INTERNAL', `the event store has a hole at position ${expected}: leaf ${Number(expected) - 1} cannot be found by position`);
          out.push(Buffer.from(e.data));
          expected++;
        },
        { after: BigInt(from), upTo: BigInt(from + count), columns: 'leaf' },
      );
      return out;
    },
  };
}

export interface EntryBundleRoutesOptions {
  readonly entries: EntrySource;
  /** Its latest signed checkpoint bounds what is served. */
  readonly log: LogServiceLike;
}

/**
 * `GET /v1/audit/tile/entries/<N>[.p/<W>]`: C2SP entry bundles (each leaf a big-endian uint16 length,
 * then its bytes), for auditors only. The leaves carry pseudonyms, and one pseudonym across leaves links
 * a person's disclosures, so unlike the tiles of hashes (public, on the log service) they are never
 * public. Served: a full bundle inside the latest signed checkpoint's tree, or a partial one of a width
 * some tree size up to that checkpoint gives it; beyond it, 404.
 */
export const entryBundleRoutes: FastifyPluginAsync<EntryBundleRoutesOptions> = async (app, { entries, log }) => {
  app.get<{ Params: { '*': string } }>(
    '/v1/audit/tile/entries/*',
    {
      preHandler: requireRole('auditor'),
      schema: {
        tags: ['auditor'],
        security: [{ bearer: [] }],
        description: 'A C2SP tlog-tiles entry bundle (application/octet-stream): the leaves 256·N … 256·N+W−1, each a big-endian uint16 length then the stored event bytes. Auditors only: the leaves carry pseudonyms.',
      },
    },
    async (request, reply) => {
      const ref = parseTilePath(`tile/entries/${request.params['*']}`);
      if (!ref || ref.level !== 'entries') throw new SporbarError('SPB_ERR_NOT_FOUND', 'not a C2SP entry bundle path: /v1/audit/tile/entries/<N>[.p/<W>]');
      const checkpoint = await log.latestCheckpoint();
      if (!checkpoint) throw new SporbarError('SPB_ERR_NOT_FOUND', 'no signed checkpoint yet');
      const has = tileWidthAt('entries', ref.index, checkpoint.treeSize);
      const served = ref.width === TILE_WIDTH ? has === TILE_WIDTH : ref.index * TILE_WIDTH + ref.width <= checkpoint.treeSize;
      if (!served) throw new SporbarError('SPB_ERR_NOT_FOUND', `the latest signed checkpoint (${checkpoint.treeSize} leaves) does not cover this bundle`);
      const leaves = await entries.leaves(ref.index * TILE_WIDTH, ref.width);
      if (leaves.length !== ref.width) throw new SporbarError('SPB_ERR_STORE_UNAVAILABLE', `the event store holds ${leaves.length} of the ${ref.width} leaves the checkpoint covers`);
      const big = leaves.findIndex((l) => l.length > MAX_BUNDLE_ENTRY_BYTES);
      if (big >= 0) throw new SporbarError('SPB_ERR_EVENT_TOO_LARGE', `leaf ${ref.index * TILE_WIDTH + big} has ${leaves[big]!.length} bytes: a C2SP entry bundle holds entries of at most ${MAX_BUNDLE_ENTRY_BYTES} bytes`);
      const bundle = encodeEntryBundle(leaves);
      // Immutable, but never in a shared cache: the response is for this auditor. Compressed when the client
      // accepts gzip (C2SP: bundles SHOULD be compressed at the HTTP layer).
      void reply.type('application/octet-stream').header('cache-control', 'private, max-age=31536000, immutable').header('vary', 'accept-encoding');
      if (acceptsGzip(request.headers['accept-encoding'])) return reply.header('content-encoding', 'gzip').send(await gzip(bundle));
      return reply.send(bundle);
    },
  );
};
