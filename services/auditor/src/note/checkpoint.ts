import { decodeBase64Strict } from './note.ts';

/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) note text, pure:
 *
 *   <origin>\n            non-empty
 *   <tree size>\n         ASCII decimal, no leading zeroes ("0" for the empty tree)
 *   <root hash>\n         base64 of the 32-byte RFC 6962 root
 *   [<extension line>\n]… each non-empty, opaque
 *
 * Sizes are JS numbers: a size above 2^53 - 1 (Number.MAX_SAFE_INTEGER) is refused as malformed
 * rather than rounded.
 */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  /** 32 bytes. */
  readonly root: Buffer;
  readonly extensions: readonly string[];
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** A decimal with no leading zero, within 0..2^53-1; undefined otherwise. */
export function parseSize(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses a checkpoint's note text (with its final newline). Throws CheckpointError. */
export function parseCheckpointText(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointError('a checkpoint text ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('a checkpoint has an origin, a size and a root hash line');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw new CheckpointError('the origin line is empty');
  const size = parseSize(sizeLine);
  if (size === undefined) throw new CheckpointError('the tree size is not a decimal without leading zeroes within 0..2^53-1');
  const root = decodeBase64Strict(rootLine);
  if (!root || root.length !== 32) throw new CheckpointError('the root hash is not base64 of 32 bytes');
  if (extensions.some((l) => l === '')) throw new CheckpointError('extension lines must be non-empty');
  return { origin, size, root, extensions };
}

/** The note text of a checkpoint: the three lines and any extension lines, each with its newline. */
export const formatCheckpointText = (c: Checkpoint): string =>
  [c.origin, String(c.size), c.root.toString('base64'), ...c.extensions].map((l) => `${l}\n`).join('');
