import { SporbarError } from '@sporbar/common/errors';
import { verifyCosignature, parseNote, parseSignatureLine, parseVkey, SIG_TYPE_COSIGNATURE_V1, type NoteSignature, parseSize } from '@sporbar/auditor/note';
import { formatAddCheckpointBody } from './request.ts';

/**
 * The log's side of tlog-witness: send a checkpoint with its consistency proof to one witness and get
 * its cosignature line(s), or a typed SporbarError:
 *
 *   409 SPB_ERR_WITNESS_CONFLICT      details.witnessSize: the size the witness last cosigned (resend from there)
 *   422 SPB_ERR_WITNESS_INCONSISTENT  the checkpoint is not consistent with what the witness saw
 *   403 SPB_ERR_WITNESS_BAD_SIGNATURE the witness does not accept the log's signature
 *   404 SPB_ERR_WITNESS_UNKNOWN_LOG   the witness does not witness this origin
 *   400 SPB_ERR_BAD_REQUEST           the request was malformed (a bug on this side)
 *   503 SPB_ERR_WITNESS_UNAVAILABLE   unreachable, timed out, a 5xx, or an answer that is not the spec's (retriable)
 *
 * With `witnessKey` (the witness's cosigner vkey) the answer is checked: lines from other keys are
 * dropped (the spec: ignore unknown keys), the witness's own must verify over the checkpoint, and at
 * least one must; without it the lines come back as sent.
 */
export interface WitnessSubmission {
  /** The size of the checkpoint the witness last cosigned (0 the first time). */
  readonly oldSize: number;
  /** RFC 6962 consistency proof from `oldSize` to the checkpoint's size (empty from 0). */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, as the log publishes it. */
  readonly checkpoint: string;
}

export interface SubmitOptions {
  /** The witness's cosigner vkey (`<name>+<hex id>+<base64(0x04 ‖ key)>`): verify what it answers. */
  readonly witnessKey?: string;
  /** Default 10 s. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** `url` is the witness's submission prefix (`https://witness.example/`): the request goes to `<url>/add-checkpoint`. */
export async function submitToWitness(url: string | URL, submission: WitnessSubmission, options: SubmitOptions = {}): Promise<string[]> {
  const target = new URL('add-checkpoint', String(url).endsWith('/') ? String(url) : `${String(url)}/`);
  const body = formatAddCheckpointBody(submission.oldSize, submission.proof, submission.checkpoint);
  const cosigner = options.witnessKey === undefined ? undefined : parseVkey(options.witnessKey);
  if (cosigner && cosigner.type !== SIG_TYPE_COSIGNATURE_V1) throw new SporbarError('SPB_ERR_CONFIG', `witness key ${cosigner.name} is not a cosignature/v1 (0x04) vkey`);
  const where = `witness ${target.host}`;
  let response: Response;
  let text: string;
  try {
    response = await (options.fetch ?? fetch)(target, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    text = await response.text();
  } catch (err) {
    throw new SporbarError('SPB_ERR_WITNESS_UNAVAILABLE', `${where}: ${(err as Error).message}`, { cause: err });
  }
  const said = text.trim().slice(0, 300);
  switch (response.status) {
    case 200:
      return cosignatures(text, submission.checkpoint, cosigner, where);
    case 409: {
      const size = /^text\/x\.tlog\.size\b/.test(response.headers.get('content-type') ?? '') && text.endsWith('\n') ? parseSize(text.slice(0, -1)) : undefined;
      if (size === undefined) throw new SporbarError('SPB_ERR_WITNESS_UNAVAILABLE', `${where}: a 409 without a text/x.tlog.size body`);
      throw new SporbarError('SPB_ERR_WITNESS_CONFLICT', `${where} last cosigned size ${size}, not ${submission.oldSize}`, { details: { witnessSize: size, status: 409 } });
    }
    case 422:
      throw new SporbarError('SPB_ERR_WITNESS_INCONSISTENT', `${where} refused the checkpoint as inconsistent: ${said}`, { details: { status: 422 } });
    case 403:
      throw new SporbarError('SPB_ERR_WITNESS_BAD_SIGNATURE', `${where} does not accept the log's signature: ${said}`, { details: { status: 403 } });
    case 404:
      throw new SporbarError('SPB_ERR_WITNESS_UNKNOWN_LOG', `${where} does not witness this log: ${said}`, { details: { status: 404 } });
    case 400:
      throw new SporbarError('SPB_ERR_BAD_REQUEST', `${where} says the request is malformed: ${said}`, { details: { status: 400 } });
    default:
      throw new SporbarError('SPB_ERR_WITNESS_UNAVAILABLE', `${where} answered ${response.status}: ${said}`, { details: { status: response.status } });
  }
}

function cosignatures(text: string, checkpoint: string, cosigner: ReturnType<typeof parseVkey> | undefined, where: string): string[] {
  const bad = (why: string) => new SporbarError('SPB_ERR_WITNESS_UNAVAILABLE', `${where}: the 200 answer ${why}`);
  if (!text.endsWith('\n') || text === '\n') throw bad('is not newline-terminated signature lines');
  let sigs: NoteSignature[];
  try {
    sigs = text.slice(0, -1).split('\n').map(parseSignatureLine);
  } catch {
    throw bad('holds a line that is not a note signature');
  }
  if (!cosigner) return sigs.map((s) => s.line);
  const noteText = parseNote(checkpoint).text;
  const mine = sigs.filter((s) => s.name === cosigner.name && s.keyId === cosigner.keyId);
  for (const s of mine) {
    const check = verifyCosignature(cosigner, noteText, s);
    if (!check.ok) throw bad(`holds a cosignature by ${cosigner.name} that fails: ${check.reason}`);
  }
  if (mine.length === 0) throw bad(`holds no cosignature by ${cosigner.name}`);
  return mine.map((s) => s.line);
}
