import { ed25519NoteVerifier, hasControlCharacter, NoteError, parseVkey, SIG_TYPE_ED25519, type NoteVerifier } from '@sporbar/auditor/note';

/**
 * The logs a witness witnesses, from its JSON file (SPORBAR_WITNESS_LOGS), pure:
 *
 *   { "logs": [ { "origin": "sporbar.example/log", "keys": ["sporbar.example/log+1a2b3c4d+AU…"] } ] }
 *
 * Each key is a C2SP vkey of signature type 0x01 (Ed25519 signed-note signatures); several keys per
 * log allow a rotation. Every problem is listed, one per line.
 */
export type LogVerifiers = ReadonlyMap<string, readonly NoteVerifier[]>;

export class LogsFileError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'LogsFileError';
  }
}

export function parseLogsFile(json: string): LogVerifiers {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new LogsFileError([`not JSON (${(err as Error).message})`]);
  }
  const logs = (data as { logs?: unknown } | null)?.logs;
  if (!Array.isArray(logs) || logs.length === 0) throw new LogsFileError(['must be {"logs": [{"origin": …, "keys": [vkey, …]}, …]} with at least one log']);
  const problems: string[] = [];
  const out = new Map<string, NoteVerifier[]>();
  logs.forEach((log: unknown, i) => {
    const { origin, keys } = (log ?? {}) as { origin?: unknown; keys?: unknown };
    if (typeof origin !== 'string' || origin === '' || hasControlCharacter(origin)) return void problems.push(`logs[${i}].origin must be a non-empty one-line string`);
    if (out.has(origin)) return void problems.push(`logs[${i}]: origin ${origin} is listed twice`);
    if (!Array.isArray(keys) || keys.length === 0) return void problems.push(`logs[${i}] (${origin}).keys must list at least one vkey`);
    const verifiers: NoteVerifier[] = [];
    keys.forEach((vkey: unknown, j) => {
      try {
        if (typeof vkey !== 'string') throw new NoteError('malformed', 'must be a string');
        const k = parseVkey(vkey);
        if (k.type !== SIG_TYPE_ED25519) throw new NoteError('malformed', `is of signature type 0x${k.type.toString(16).padStart(2, '0')}; a log's key is Ed25519 (0x01)`);
        if (verifiers.some((v) => v.name === k.name && v.keyId === k.keyId)) throw new NoteError('malformed', 'is listed twice');
        verifiers.push(ed25519NoteVerifier(k));
      } catch (err) {
        if (!(err instanceof NoteError)) throw err;
        problems.push(`logs[${i}] (${origin}).keys[${j}] ${err.message}`);
      }
    });
    out.set(origin, verifiers);
  });
  if (problems.length > 0) throw new LogsFileError(problems);
  return out;
}
