import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { parseTilePath, type TileRef } from '@sporbar/auditor/tiles';

/** What the tile routes read: the auditor's `LogService` has both. */
export interface TileSource {
  latestCheckpoint(): { readonly checkpoint: string } | undefined;
  /** The tile's hashes when a signed checkpoint requires it, else undefined. */
  tile(tile: TileRef & { level: number }): Buffer | undefined;
}

export interface TileRoutesOptions {
  readonly log: TileSource;
}

/** Full and partial tiles never change once served (a partial tile is another URL than the full one). */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The checkpoint moves on: caches may keep it a few seconds at most. */
export const CHECKPOINT_CACHE = 'public, max-age=2, must-revalidate';

const notFound = (reply: FastifyReply, message: string) => reply.status(404).header('cache-control', 'no-store').send({ code: 'SPB_ERR_NOT_FOUND', message });

/**
 * The log's public read path for monitors, as C2SP tlog-tiles says (https://c2sp.org/tlog-tiles):
 * `GET /checkpoint` (the latest signed checkpoint note, exactly) and `GET /tile/<L>/<N>[.p/<W>]` (the
 * Merkle tree's hashes, 256 per full tile). Only tiles a served checkpoint requires exist: a full tile
 * inside the latest checkpoint's tree, a partial tile of the width some signed checkpoint's tree gives
 * it; anything else is 404. No authentication: hashes and signatures only.
 *
 * Entry bundles (`/tile/entries/…`) are not served here: the leaves carry pseudonyms, and the same
 * pseudonym in several leaves links one person's disclosures. Auditors get them from the access API
 * with a token (`GET /v1/audit/tile/entries/…`).
 */
export const tileRoutes: FastifyPluginAsync<TileRoutesOptions> = async (app, { log }) => {
  app.get('/checkpoint', { schema: { hide: true } }, async (_request, reply) => {
    const latest = log.latestCheckpoint();
    if (!latest) return notFound(reply, 'no signed checkpoint yet');
    return reply.type('text/plain; charset=utf-8').header('cache-control', CHECKPOINT_CACHE).send(latest.checkpoint);
  });

  app.get<{ Params: { '*': string } }>('/tile/*', { schema: { hide: true } }, async (request, reply) => {
    const ref = parseTilePath(`tile/${request.params['*']}`);
    if (!ref) return notFound(reply, 'not a C2SP tile path: /tile/<L>/<N>[.p/<W>]');
    if (ref.level === 'entries') return notFound(reply, 'entry bundles are not public (the leaves carry pseudonyms): auditors read them on the access API, GET /v1/audit/tile/entries/…');
    const hashes = log.tile({ level: ref.level, index: ref.index, width: ref.width });
    if (!hashes) return notFound(reply, 'no signed checkpoint requires this tile');
    return reply.type('application/octet-stream').header('cache-control', IMMUTABLE).send(hashes);
  });
};

// The tile arithmetic for the access API's auditor-only entry bundles (it may import this package, not the auditor).
export { MAX_BUNDLE_ENTRY_BYTES, TILE_WIDTH, decodeEntryBundle, encodeEntryBundle, formatTilePath, parseTilePath, tileWidthAt, type TileRef } from '@sporbar/auditor/tiles';
