/**
 * SCRAM-SHA-512 credentials for `kafka-storage format --add-scram` (pure).
 *
 * StorageTool accepts either a clear password or the salted password of RFC 5802
 * (SaltedPassword = Hi(password, salt, i), which is PBKDF2-HMAC-SHA-512). We pass the salted form, so
 * no clear password ever appears on a JVM command line (visible to every local user in the process
 * list); the broker derives StoredKey/ServerKey from it exactly as from a clear password.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';

/** Kafka's minimum (and default) iteration count for SCRAM-SHA-512. */
export const SCRAM_ITERATIONS = 4096;

/** User names Kafka principals may have here: no characters that need quoting in CLI or ACL syntax. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * Passwords: 12–256 printable ASCII characters without quotes, backslash, comma, brackets or '=',
 * because ConfigCommand's `[password=…]`, Java properties files and JAAS config strings would
 * otherwise need escaping (a password that silently changes under escaping is worse than a refusal).
 */
const PASSWORD = /^[A-Za-z0-9!#$%&()*+\-./:;<>?@^_{|}~]{12,256}$/;

export function assertValidUserName(user: string): void {
  if (!USER_NAME.test(user)) {
    throw new Error(`invalid Kafka user name ${JSON.stringify(user)}: use 1–64 of [A-Za-z0-9._-], starting with a letter or digit`);
  }
}

export function assertValidPassword(user: string, password: string): void {
  if (!PASSWORD.test(password)) {
    throw new Error(
      `invalid password for Kafka user ${JSON.stringify(user)}: 12–256 printable ASCII characters, ` +
        `none of space " ' \` \\ , [ ] =`,
    );
  }
}

/** A random password that satisfies assertValidPassword (32 bytes, base64url). */
export function randomPassword(): string {
  return randomBytes(32).toString('base64url');
}

export interface ScramCredential {
  /** base64 */
  salt: string;
  /** base64 of PBKDF2-HMAC-SHA-512(password, salt, iterations, 64 bytes) */
  saltedPassword: string;
  iterations: number;
}

export function scramSha512Credential(password: string, salt: Buffer = randomBytes(32), iterations = SCRAM_ITERATIONS): ScramCredential {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 64, 'sha512');
  return { salt: salt.toString('base64'), saltedPassword: salted.toString('base64'), iterations };
}

/** The value of one StorageTool `--add-scram` argument. */
export function storageToolScramArgument(user: string, credential: ScramCredential): string {
  assertValidUserName(user);
  return (
    `SCRAM-SHA-512=[name=${user},iterations=${credential.iterations},` +
    `salt="${credential.salt}",saltedpassword="${credential.saltedPassword}"]`
  );
}
