import { parseSize, decodeBase64 } from '@sporbar/auditor/note';

/**
 * The body of a tlog-witness add-checkpoint request (https://c2sp.org/tlog-witness), pure:
 *
 *   old <size>\n                 decimal, no leading zeroes
 *   <base64 32-byte hash>\n      zero to 63 consistency proof lines
 *   \n
 *   <the signed checkpoint note>
 *
 * Parsing stops at the first empty line: what follows is the note, checked by `openNote`.
 */
export const MAX_PROOF_LINES = 63;
/** The largest body the witness reads (a checkpoint with 100 post-quantum signatures fits). */
export const MAX_BODY_BYTES = 128 * 1024;

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Buffer[];
  /** The note's bytes, as sent. */
  readonly note: Buffer;
  /** The note's first line (the checkpoint origin), to find the log before anything is verified. */
  readonly origin: string;
}

export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

const NEWLINE = 0x0a;

/** Parses the request body; throws RequestError (the spec's 400) when it is not one. */
export function parseAddCheckpointBody(body: Uint8Array): AddCheckpointRequest {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.length);
  const split = bytes.indexOf('\n\n');
  if (split < 0) throw new RequestError('the body has no empty line before the checkpoint');
  const head = bytes.subarray(0, split).toString('latin1');
  if (!/^[\x20-\x7e\n]*$/.test(head)) throw new RequestError('the old size and proof lines are printable ASCII');
  const [oldLine, ...proofLines] = head.split('\n') as [string, ...string[]];
  if (!oldLine.startsWith('old ')) throw new RequestError('the body starts with an old size line: old <size>');
  const oldSize = parseSize(oldLine.slice(4));
  if (oldSize === undefined) throw new RequestError('the old size is not a decimal without leading zeroes within 0..2^53-1');
  if (proofLines.length > MAX_PROOF_LINES) throw new RequestError(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof = proofLines.map((line, i) => {
    // Unused trailing bits ignored, as Go's decoder does: what is checked is the 32 bytes.
    const hash = decodeBase64(line);
    if (!hash || hash.length !== 32) throw new RequestError(`consistency proof line ${i + 1} is not base64 of a 32-byte hash`);
    return hash;
  });
  const note = bytes.subarray(split + 2);
  const end = note.indexOf(NEWLINE);
  if (end <= 0) throw new RequestError('the checkpoint has no origin line');
  return { oldSize, proof, note: Buffer.from(note), origin: note.subarray(0, end).toString('utf8') };
}

/** The body a log sends: the old size line, one line per proof hash, an empty line, the signed checkpoint. */
export function formatAddCheckpointBody(oldSize: number, proof: readonly Uint8Array[], checkpoint: string): string {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) throw new RangeError(`old size must be an integer ≥ 0, got ${oldSize}`);
  if (proof.length > MAX_PROOF_LINES) throw new RangeError(`a consistency proof has at most ${MAX_PROOF_LINES} hashes`);
  return `old ${oldSize}\n${proof.map((h) => `${Buffer.from(h).toString('base64')}\n`).join('')}\n${checkpoint}`;
}
