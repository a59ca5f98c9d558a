import { spawnSync } from 'node:child_process';
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

/** A C2SP tlog-proof checked by the Go code: the log's key, the witnesses' keys, how many must have cosigned. */
export function tlogProofCheck(text: string, logVerifierKey: string, witnesses: readonly string[] = [], quorum = 0): TlogCheckAnswer {
  return tlogCheck({ verifierKey: logVerifierKey, checkpoint: '', proof: { text, witnesses, quorum } });
}
