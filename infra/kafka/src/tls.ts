/**
 * The broker's TLS material, made with `openssl` (keys, certificates, PKCS12 keystore) and `keytool`
 * (PKCS12 truststore; Java only trusts a PKCS12 certificate entry that carries its trusted-cert
 * attribute, which OpenSSL 3.0 cannot write):
 *
 *   <dir>/ca.key         private CA key (EC P-256), 0600; kept so the broker certificate can be re-issued
 *   <dir>/ca.crt         CA certificate, PEM: what clients trust (kafkajs `ssl: { ca: [pem] }`, KAFKA_CA_FILE)
 *   <dir>/broker.key     broker key (EC P-256), 0600
 *   <dir>/broker.crt     broker certificate, CN=sporbar-kafka-broker, SAN IP:127.0.0.1 DNS:localhost,
 *                        serverAuth+clientAuth (the broker is also a TLS client of its own listeners)
 *   <dir>/broker.p12     PKCS12 keystore: broker key + chain, 0600
 *   <dir>/truststore.p12 PKCS12 truststore: the CA, 0600
 *   <dir>/store.password password of both stores, 0600
 *
 * Reused as long as every file is there, the broker certificate is issued by the CA, matches its key,
 * covers 127.0.0.1 and localhost and is valid for another 7 days; otherwise (or with `fresh`) it is
 * made again; the CA too unless it is itself still valid.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomPassword } from './scram.ts';

const run = promisify(execFile);

/** Subject of the broker certificate; with TLS client auth its principal is `User:CN=sporbar-kafka-broker`. */
export const BROKER_CERT_CN = 'sporbar-kafka-broker';
export const BROKER_TLS_PRINCIPAL = `User:CN=${BROKER_CERT_CN}`;
const VALID_DAYS = 825;
const MIN_REMAINING_MS = 7 * 24 * 3600 * 1000;

export interface BrokerTls {
  dir: string;
  caCertFile: string;
  caKeyFile: string;
  certFile: string;
  keyFile: string;
  keystoreFile: string;
  truststoreFile: string;
  /** Password of keystore and truststore (also in <dir>/store.password). */
  storePassword: string;
  /** True when this call (re)made the broker certificate. */
  generated: boolean;
}

function files(dir: string) {
  return {
    caKeyFile: path.join(dir, 'ca.key'),
    caCertFile: path.join(dir, 'ca.crt'),
    keyFile: path.join(dir, 'broker.key'),
    certFile: path.join(dir, 'broker.crt'),
    keystoreFile: path.join(dir, 'broker.p12'),
    truststoreFile: path.join(dir, 'truststore.p12'),
    passwordFile: path.join(dir, 'store.password'),
  };
}

async function tool(cmd: 'openssl' | 'keytool', args: string[], env?: Record<string, string>): Promise<void> {
  try {
    await run(cmd, args, { env: { ...process.env, ...env }, timeout: 60_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${cmd} not found: the secured Kafka broker needs openssl and keytool (JDK) on PATH`);
    throw new Error(`${cmd} ${args[0]} failed: ${e.stderr?.trim() || e.message}`);
  }
}

function isValidCa(caCertFile: string, caKeyFile: string, now: number): boolean {
  try {
    const ca = new X509Certificate(fs.readFileSync(caCertFile));
    return ca.ca && ca.checkPrivateKey(createPrivateKey(fs.readFileSync(caKeyFile))) && Date.parse(ca.validTo) - now > MIN_REMAINING_MS;
  } catch {
    return false;
  }
}

/** Whether the TLS files in `dir` can be used as they are (see the module comment). */
export function brokerTlsValid(dir: string, now = Date.now()): boolean {
  const f = files(dir);
  if (!Object.values(f).every((file) => fs.existsSync(file))) return false;
  if (!isValidCa(f.caCertFile, f.caKeyFile, now)) return false;
  try {
    const ca = new X509Certificate(fs.readFileSync(f.caCertFile));
    const cert = new X509Certificate(fs.readFileSync(f.certFile));
    return (
      cert.checkIssued(ca) &&
      cert.verify(ca.publicKey) &&
      cert.checkPrivateKey(createPrivateKey(fs.readFileSync(f.keyFile))) &&
      cert.checkIP('127.0.0.1') !== undefined &&
      cert.checkHost('localhost') !== undefined &&
      Date.parse(cert.validFrom) <= now &&
      Date.parse(cert.validTo) - now > MIN_REMAINING_MS &&
      fs.readFileSync(f.passwordFile, 'utf8').trim().length > 0
    );
  } catch {
    return false;
  }
}

/** A new self-signed CA (EC P-256) in `dir`/ca.key (0600) and `dir`/ca.crt. Also used by tests for a foreign CA. */
export async function createCertificateAuthority(dir: string, commonName: string): Promise<{ caCertFile: string; caKeyFile: string }> {
  const { caKeyFile, caCertFile } = files(dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.rmSync(caKeyFile, { force: true });
  await tool('openssl', [
    'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', caKeyFile, '-out', caCertFile, '-days', String(VALID_DAYS), '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  fs.chmodSync(caKeyFile, 0o600);
  return { caCertFile, caKeyFile };
}

async function issueBrokerCertificate(dir: string, storePassword: string): Promise<void> {
  const f = files(dir);
  const csr = path.join(dir, 'broker.csr');
  const ext = path.join(dir, 'broker.ext');
  fs.rmSync(f.keyFile, { force: true });
  await tool('openssl', [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', f.keyFile, '-out', csr, '-subj', `/CN=${BROKER_CERT_CN}`,
  ]);
  fs.chmodSync(f.keyFile, 0o600);
  fs.writeFileSync(
    ext,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' +
      'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  await tool('openssl', [
    'x509', '-req', '-in', csr, '-CA', f.caCertFile, '-CAkey', f.caKeyFile,
    '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', String(VALID_DAYS), '-extfile', ext, '-out', f.certFile,
  ]);
  fs.rmSync(csr, { force: true });
  fs.rmSync(ext, { force: true });

  // The password goes through the environment, not the command line (which every local user can read).
  const env = { SPORBAR_KAFKA_STORE_PASSWORD: storePassword };
  for (const store of [f.keystoreFile, f.truststoreFile]) fs.rmSync(store, { force: true });
  await tool(
    'openssl',
    ['pkcs12', '-export', '-in', f.certFile, '-inkey', f.keyFile, '-certfile', f.caCertFile, '-name', 'broker',
      '-out', f.keystoreFile, '-passout', 'env:SPORBAR_KAFKA_STORE_PASSWORD'],
    env,
  );
  await tool(
    'keytool',
    ['-importcert', '-noprompt', '-alias', 'sporbar-ca', '-file', f.caCertFile, '-keystore', f.truststoreFile,
      '-storetype', 'PKCS12', '-storepass:env', 'SPORBAR_KAFKA_STORE_PASSWORD'],
    env,
  );
  for (const store of [f.keystoreFile, f.truststoreFile]) fs.chmodSync(store, 0o600);
}

/** The broker's TLS files in `dir`: reused if valid, else (or with `fresh`) made. */
export async function ensureBrokerTls(options: { dir: string; fresh?: boolean; caName?: string }): Promise<BrokerTls> {
  const { dir } = options;
  const f = files(dir);
  let generated = false;
  if (options.fresh || !brokerTlsValid(dir)) {
    if (options.fresh) fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!isValidCa(f.caCertFile, f.caKeyFile, Date.now())) {
      await createCertificateAuthority(dir, options.caName ?? 'Sporbar development Kafka CA');
    }
    const storePassword = randomPassword();
    fs.writeFileSync(f.passwordFile, `${storePassword}\n`, { mode: 0o600 });
    await issueBrokerCertificate(dir, storePassword);
    generated = true;
  }
  for (const secret of [f.caKeyFile, f.keyFile, f.keystoreFile, f.truststoreFile, f.passwordFile]) fs.chmodSync(secret, 0o600);
  return {
    dir,
    caCertFile: f.caCertFile,
    caKeyFile: f.caKeyFile,
    certFile: f.certFile,
    keyFile: f.keyFile,
    keystoreFile: f.keystoreFile,
    truststoreFile: f.truststoreFile,
    storePassword: fs.readFileSync(f.passwordFile, 'utf8').trim(),
    generated,
  };
}
