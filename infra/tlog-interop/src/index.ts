import { spawn, spawnSync } from 'node:child_process';
import { ensureTlogCheck } from './build.ts';

export { ensureTlogCheck, goPrerequisites, DEBIAN_X_MOD, TLOGCHECK } from './build.ts';

/** What `tlogcheck` reads: a verifier key (`<name>+<hash>+<base64 key>`), a signed checkpoint, proofs to check against it; or a tlog-proof. */
export interface TlogCheckRequest {
  readonly verifierKey: string;
  readonly checkpoint: string;
  /** Each with the leaf bytes (`leaf`, base64) or its leaf hash (`leafHash`, base64), or both (then they must agree). */
  readonly inclusion?: ReadonlyArray<{ index: number; leaf?: string; leafHash?: string; proof: readonly string[] }>;
  /** A proof that the checkpoint's tree extends an older one (`tlog.CheckTree`). */
  readonly consistency?: { oldSize: number; oldRoot: string; proof: readonly string[] };
  /**
   * Instead: a C2SP tlog-proof (`text`) checked under `verifierKey` (the log's) and these witnesses'
   * cosignature/v1 verifier keys, `quorum` of which must have cosigned (`checkpoint` is then ignored:
   * the proof carries it). The answer's `signers` are the log and the witnesses whose signatures
   * verified, `inclusion` the one entry's result (`tlog.CheckRecord` over `tlog.RecordHash(extra)`).
   */
  readonly proof?: { text: string; witnesses: readonly string[]; quorum: number };
}

export interface TlogCheckAnswer {
  readonly ok: boolean;
  readonly origin?: string;
  readonly size: number;
  readonly root?: string;
  readonly extensions?: string[];
  /** `name+hash` of each signature note.Open verified. */
  readonly signers?: string[];
  /** `ok` or the error, per inclusion item. */
  readonly inclusion?: string[];
  readonly consistency?: string;
  readonly error?: string;
  /** The process's exit code: 0 all good, 1 a check failed, 2 a bad request. */
  readonly exitCode: number;
}

/** Runs the Go checksum database's note.Open / tlog.CheckRecord / tlog.CheckTree on a request (or a tlog-proof: `proofCheck`). */
export function tlogCheck(request: TlogCheckRequest): TlogCheckAnswer {
  const bin = ensureTlogCheck();
  const res = spawnSync(bin, [], { input: JSON.stringify(request), encoding: 'utf8', timeout: 30_000 });
  if (res.error) throw res.error;
  const answer = JSON.parse(res.stdout) as Omit<TlogCheckAnswer, 'exitCode'>;
  return { ...answer, exitCode: res.status ?? -1 };
}

/** The tiles mode: read a log as a monitor does, over C2SP tlog-tiles (`<url>/checkpoint`, `<url>/tile/<L>/<N>[.p/<W>]`). */
export interface TlogTilesRequest {
  readonly verifierKey: string;
  /** The log's prefix (`http://host:port`). */
  readonly url: string;
  /** Leaves to prove from the tiles (`tlog.ProveRecord` then `tlog.CheckRecord`); with `leaf` (base64 bytes), its `tlog.RecordHash` must be the tile's. */
  readonly records?: ReadonlyArray<{ index: number; leaf?: string }>;
  /** A signed checkpoint seen earlier: its root from its own (partial) tiles, then `tlog.ProveTree`/`CheckTree` to the current one. */
  readonly oldCheckpoint?: string;
}

export interface TlogTilesAnswer {
  readonly ok: boolean;
  readonly size: number;
  readonly root?: string;
  readonly error?: string;
  readonly tiles?: {
    readonly checkpoint?: string;
    /** `tlog.TreeHash` over the tiles (base64). */
    readonly treeHash?: string;
    /** `ok` or the error, per record. */
    readonly records?: string[];
    /** Each record's hash as the level-0 tile holds it (base64). */
    readonly leafHashes?: string[];
    readonly oldSize?: number;
    readonly consistency?: string;
    /** The C2SP paths fetched, in order. */
    readonly fetched?: string[];
  };
  readonly exitCode: number;
}

/**
 * Runs tlogcheck's tiles mode: `note.Open` on the served checkpoint, `tlog.TileHashReader` over the
 * served tiles (Go's `tile/8/<L>/…` paths translated to C2SP's `tile/<L>/…`), `tlog.TreeHash`,
 * `ProveRecord`/`CheckRecord`, `ProveTree`/`CheckTree`. Asynchronous: the log may be served by this process.
 */
export async function tlogTiles(request: TlogTilesRequest): Promise<TlogTilesAnswer> {
  const bin = ensureTlogCheck();
  const { verifierKey, ...tiles } = request;
  const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? -1));
    child.stdin.end(JSON.stringify({ verifierKey, tiles }));
  }).finally(() => clearTimeout(timer));
  const text = Buffer.concat(out).toString('utf8');
  if (!text.trim()) throw new Error(`tlogcheck (tiles) answered nothing, exit ${code}: ${Buffer.concat(err).toString('utf8')}`);
  return { ...(JSON.parse(text) as Omit<TlogTilesAnswer, 'exitCode'>), exitCode: code };
}

/** A C2SP tlog-proof checked by the Go code: the log's key, the witnesses' keys, how many must have cosigned. */
export function tlogProofCheck(text: string, logVerifierKey: string, witnesses: readonly string[] = [], quorum = 0): TlogCheckAnswer {
  return tlogCheck({ verifierKey: logVerifierKey, checkpoint: '', proof: { text, witnesses, quorum } });
}
