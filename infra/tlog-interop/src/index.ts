import { spawnSync } from 'node:child_process';
import { ensureTlogCheck } from './build.ts';

export { ensureTlogCheck, goPrerequisites, DEBIAN_X_MOD, TLOGCHECK } from './build.ts';

/** What `tlogcheck` reads: a verifier key (`<name>+<hash>+<base64 key>`), a signed checkpoint, proofs to check against it. */
export interface TlogCheckRequest {
  readonly verifierKey: string;
  readonly checkpoint: string;
  /** Each with the leaf bytes (`leaf`, base64) or its leaf hash (`leafHash`, base64), or both (then they must agree). */
  readonly inclusion?: ReadonlyArray<{ index: number; leaf?: string; leafHash?: string; proof: readonly string[] }>;
  /** A proof that the checkpoint's tree extends an older one (`tlog.CheckTree`). */
  readonly consistency?: { oldSize: number; oldRoot: string; proof: readonly string[] };
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

/** Runs the Go checksum database's note.Open / tlog.CheckRecord / tlog.CheckTree on a request. */
export function tlogCheck(request: TlogCheckRequest): TlogCheckAnswer {
  const bin = ensureTlogCheck();
  const res = spawnSync(bin, [], { input: JSON.stringify(request), encoding: 'utf8', timeout: 30_000 });
  if (res.error) throw res.error;
  const answer = JSON.parse(res.stdout) as Omit<TlogCheckAnswer, 'exitCode'>;
  return { ...answer, exitCode: res.status ?? -1 };
}
