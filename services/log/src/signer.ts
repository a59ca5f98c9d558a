import { execFile } from 'node:child_process';
import { randomBytes, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SporbarError } from '@sporbar/common/errors';
import type { CheckpointSigner, VerifyingKey } from '@sporbar/auditor';

/** The environment variable through which a signer command finds the bytes to sign as a file. */
export const MESSAGE_FILE_VARIABLE = 'SPORBAR_SIGN_MESSAGE_FILE';

export interface CommandSignerOptions {
  /** Run with `/bin/sh -c`: the operator's HSM/KMS command line. */
  readonly command: string;
  /** The public key the command's signatures must verify under (its id names the signer). */
  readonly publicKey: VerifyingKey;
  /** Default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** The 64-byte signature in a command's output: raw, or base64 (standard or url) with surrounding white space. */
export function signatureFromOutput(out: Buffer): Buffer | undefined {
  if (out.length === 64) return out;
  const text = out.toString('latin1').trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 64 ? bytes : undefined;
}

/**
 * A KMS-style signer: the private key never enters this process. Each signature runs `command` (as
 * an HSM or KMS command line would be run), which gets the bytes to sign on stdin and also as a file
 * named by $SPORBAR_SIGN_MESSAGE_FILE (for tools such as `openssl pkeyutl -rawin`, which need a
 * file), and writes the 64-byte Ed25519 signature raw or in base64 to stdout. The bytes are a
 * checkpoint's body (public). Every signature is verified under `publicKey` before it is used: a
 * command that signs with another key, fails, hangs or prints anything else is an error, never a bad
 * checkpoint.
 */
export function createCommandSigner(options: CommandSignerOptions): CheckpointSigner {
  const timeout = options.timeoutMs ?? 10_000;
  return {
    keyId: options.publicKey.keyId,
    publicKeyRaw: options.publicKey.publicKeyRaw,
    async sign(message) {
      const dir = await mkdtemp(join(tmpdir(), 'sporbar-sign-'));
      try {
        const file = join(dir, 'message');
        await writeFile(file, message, { mode: 0o600 });
        const out = await new Promise<Buffer>((resolve, reject) => {
          const child = execFile('/bin/sh', ['-c', options.command], { encoding: 'buffer', timeout, maxBuffer: 64 * 1024, env: { ...process.env, [MESSAGE_FILE_VARIABLE]: file } }, (err, stdout, stderr) => {
            if (err) {
              const why = err.killed ? `did not finish within ${timeout} ms` : `failed (exit ${String(err.code ?? err.signal)})`;
              const said = stderr.toString('utf8').trim().split('\n')[0]?.slice(0, 200);
              reject(new SporbarError('SPB_ERR_CONFIG', `the checkpoint signer command ${why}${said ? `: ${said}` : ''}`));
            } else resolve(stdout);
          });
          // A command that does not read stdin (it takes the file) may exit first: the broken pipe is not
          // an error of ours, its exit code and output decide.
          child.stdin?.on('error', () => undefined);
          child.stdin?.end(Buffer.from(message));
        });
        const signature = signatureFromOutput(out);
        if (!signature) throw new SporbarError('SPB_ERR_CONFIG', `the checkpoint signer command printed ${out.length} bytes, neither a 64-byte Ed25519 signature nor its base64`);
        if (!verify(null, message, options.publicKey.publicKey, signature)) {
          throw new SporbarError('SPB_ERR_CONFIG', `the checkpoint signer command's signature does not verify under the public key ${options.publicKey.keyId}`);
        }
        return signature;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * At start: one signature over a random probe must verify under the public key, else the service
 * refuses to start (SPB_ERR_CONFIG). Catches a wrong key file, a command that signs with another key,
 * a missing tool. Returns the problem, or undefined.
 */
export async function probeSigner(signer: CheckpointSigner, publicKey: VerifyingKey): Promise<string | undefined> {
  const probe = Buffer.concat([Buffer.from('sporbar signer probe\n'), randomBytes(16)]);
  try {
    const signature = await signer.sign(probe);
    if (signature.length !== 64 || !verify(null, probe, publicKey.publicKey, signature)) return `its signature does not verify under the public key ${publicKey.keyId}`;
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
