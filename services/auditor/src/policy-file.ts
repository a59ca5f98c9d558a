import { readFileSync } from 'node:fs';
import { SporbarError } from '@sporbar/common/errors';
import { parsePolicy, type TlogPolicy } from './note/index.ts';

export interface LoadedPolicy {
  /** The file's text, served as it is (GET /v1/log/policy). */
  readonly text: string;
  readonly policy: TlogPolicy;
}

/**
 * Reads a C2SP tlog-policy file. With `origin`, the policy must list that log (the checkpoints it
 * judges are that log's). A missing file, a syntax error (with its line) or a policy without the log:
 * SPB_ERR_CONFIG.
 */
export function loadPolicyFile(path: string, options: { origin?: string } = {}): LoadedPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SporbarError('SPB_ERR_CONFIG', `cannot read the witness policy ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let policy: TlogPolicy;
  try {
    policy = parsePolicy(text);
  } catch (err) {
    throw new SporbarError('SPB_ERR_CONFIG', `the witness policy ${path} is not a C2SP tlog-policy: ${(err as Error).message}`);
  }
  if (options.origin !== undefined && !policy.logs.some((l) => l.origin === options.origin)) {
    throw new SporbarError('SPB_ERR_CONFIG', `the witness policy ${path} lists no log with origin ${options.origin} (a line \`log <the verifier key from /v1/log/key>\`)`);
  }
  return { text, policy };
}
