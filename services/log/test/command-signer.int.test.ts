import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { loadVerifyingKey, verifyTreeHead } from '@sporbar/auditor';
import type { EventStore } from '@sporbar/event-store';
import { createCommandSigner, probeSigner } from '../src/signer.ts';
import {
  ORIGIN,
  appendDisclosures,
  checkpointKeyFiles,
  createTestDatabase,
  dropTestDatabase,
  getJson,
  openStore,
  probePostgres,
  noWitnessPolicyFile,
  startLogProcess,
  storedCheckpoints,
  waitFor,
  type LogProcess,
} from './support.ts';

/**
 * A KMS-style signer: the private key never enters the log service. The command here is the real
 * `openssl pkeyutl -sign -rawin` (OpenSSL ≥ 3.0), as an HSM or KMS command line would be run; the
 * service checks at start that its signature verifies under the configured public key.
 */
const pgProbe = await probePostgres();
const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!openssl && process.env['CI'] === 'true') throw new Error('openssl missing under CI=true');
const opensslSign = (keyFile: string) => `openssl pkeyutl -sign -rawin -inkey '${keyFile}' -in "$SPORBAR_SIGN_MESSAGE_FILE"`;

describe.skipIf(!openssl)('the command signer (openssl)', () => {
  it('signs with the key it is given; a signature under another key, a failing or silent command are refused', async () => {
    const key = checkpointKeyFiles();
    const other = checkpointKeyFiles();
    const publicKey = loadVerifyingKey(key.publicKeyPem);
    const good = createCommandSigner({ command: opensslSign(key.keyFile), publicKey });
    expect(await probeSigner(good, publicKey)).toBeUndefined();
    // base64 output is accepted too
    expect(await probeSigner(createCommandSigner({ command: `${opensslSign(key.keyFile)} | base64 -w0`, publicKey }), publicKey)).toBeUndefined();
    expect(await probeSigner(createCommandSigner({ command: opensslSign(other.keyFile), publicKey }), publicKey)).toMatch(/does not verify under the public key/);
    expect(await probeSigner(createCommandSigner({ command: 'echo nope >&2; exit 3', publicKey }), publicKey)).toMatch(/failed \(exit 3\): nope/);
    expect(await probeSigner(createCommandSigner({ command: 'true', publicKey }), publicKey)).toMatch(/printed 0 bytes/);
    expect(await probeSigner(createCommandSigner({ command: 'sleep 5', publicKey, timeoutMs: 200 }), publicKey)).toMatch(/did not finish within 200 ms/);
  });

  describe.skipIf(!pgProbe.url)('in the log service process', () => {
    const processes: LogProcess[] = [];
    let db: { name: string; url: string } | undefined;
    let store: EventStore | undefined;
    afterAll(async () => {
      for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      await store?.close();
      if (db) await dropTestDatabase(pgProbe.url!, db.name);
    });

    it('signs checkpoints through openssl that verify; with the wrong public key it refuses to start', async () => {
      db = await createTestDatabase(pgProbe.url!);
      store = await openStore(db.url);
      const key = checkpointKeyFiles();
      const env = {
        SPORBAR_STORE: 'postgres',
        DATABASE_URL: db.url,
        SPORBAR_LOG_ID: 'log-test',
        SPORBAR_CHECKPOINT_SIGNER_COMMAND: opensslSign(key.keyFile),
        SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE: key.publicKeyFile,
        SPORBAR_WITNESS_POLICY_FILE: noWitnessPolicyFile({ pem: key.publicKeyPem }),
        SPORBAR_SUBJECT_MAP_KEY: Buffer.alloc(32, 7).toString('base64url'),
        SPORBAR_CHECKPOINT_INTERVAL_SECONDS: '1',
        PORT: '0',
      };
      const wrong = startLogProcess({ ...env, SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE: checkpointKeyFiles().publicKeyFile }, 'wrong-key');
      processes.push(wrong);
      expect(await wrong.exited).toBe(1);
      const out = wrong.output.join('');
      expect(out).toContain('SPB_ERR_CONFIG');
      expect(out).toMatch(/SPORBAR_CHECKPOINT_SIGNER_COMMAND\s+the checkpoint signer command's signature does not verify/);

      const p = startLogProcess(env);
      processes.push(p);
      const base = await p.ready;
      await appendDisclosures(store, 0, 4);
      const cp = await waitFor(async () => {
        const r = await getJson<{ treeSize: number; checkpoint: string }>(`${base}/v1/log/checkpoint`);
        return r.status === 200 && r.body.treeSize >= 4 ? r.body : undefined;
      }, 20_000, 'a checkpoint signed by openssl');
      expect(verifyTreeHead(cp.checkpoint, key.publicKeyPem, { origin: ORIGIN }).ok).toBe(true);
      const stored = await storedCheckpoints(store);
      expect(stored.length).toBeGreaterThanOrEqual(1);
      for (const c of stored) expect(verifyTreeHead(c.text, key.publicKeyPem, { origin: ORIGIN }).ok).toBe(true);
    });
  });
});
