// The broker's TLS files, made with the real openssl and keytool: made once, reused while valid,
// re-issued (under the same CA) when the broker certificate is unusable, all new with fresh.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerTlsValid, ensureBrokerTls } from '../src/index.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sporbar-kafka-tls-'));
const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

describe('broker TLS files', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('makes a CA and a broker certificate for 127.0.0.1 and localhost, secrets 0600', async () => {
    const tls = await ensureBrokerTls({ dir });
    expect(tls.generated).toBe(true);
    expect(brokerTlsValid(dir)).toBe(true);
    const cert = new X509Certificate(read('broker.crt'));
    expect(cert.subject).toBe('CN=sporbar-kafka-broker');
    expect(cert.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    expect(cert.checkIssued(new X509Certificate(read('ca.crt')))).toBe(true);
    for (const secret of ['ca.key', 'broker.key', 'broker.p12', 'truststore.p12', 'store.password']) {
      expect((fs.statSync(path.join(dir, secret)).mode & 0o777).toString(8), secret).toBe('600');
    }
    expect(tls.storePassword).toBe(read('store.password').trim());
  });

  it('reuses valid files as they are', async () => {
    const before = read('broker.crt');
    const tls = await ensureBrokerTls({ dir });
    expect(tls.generated).toBe(false);
    expect(read('broker.crt')).toBe(before);
  });

  it('re-issues an unusable broker certificate under the same CA', async () => {
    const ca = read('ca.crt');
    const cert = read('broker.crt');
    fs.writeFileSync(path.join(dir, 'broker.key'), read('ca.key')); // key no longer matches the certificate
    expect(brokerTlsValid(dir)).toBe(false);
    const tls = await ensureBrokerTls({ dir });
    expect(tls.generated).toBe(true);
    expect(read('ca.crt')).toBe(ca);
    expect(read('broker.crt')).not.toBe(cert);
    expect(brokerTlsValid(dir)).toBe(true);
  });

  it('makes everything new with fresh', async () => {
    const ca = read('ca.crt');
    await ensureBrokerTls({ dir, fresh: true });
    expect(read('ca.crt')).not.toBe(ca);
    expect(brokerTlsValid(dir)).toBe(true);
  });
});
