// The pure parts of the secured mode: principal specs → ACL entries, the KAFKA_* env contract,
// SCRAM credentials for the storage format, the generated server.properties entries.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { aclEntriesFor, kafkaClientEnv, kafkaClientOptions, kafkaClientSettingsFromEnv, validatePrincipals } from '../src/index.ts';
import { randomPassword, scramSha512Credential, storageToolScramArgument } from '../src/scram.ts';
import { cliClientProperties, secureServerProperties } from '../src/security-config.ts';
import type { BrokerTls } from '../src/tls.ts';

const { AclOperationTypes: Op, AclPermissionTypes: Permission, AclResourceTypes: Resource, ResourcePatternTypes: Pattern } = kafkajs;
const password = 'correct-horse-battery';

describe('aclEntriesFor', () => {
  it('makes one ALLOW entry per principal, resource and operation', () => {
    const acl = aclEntriesFor([
      {
        user: 'sporbar-ingest',
        password,
        allow: [
          { topic: 'sporbar.disclosures', ops: ['Read', 'Read'] },
          { group: 'sporbar-ingest', ops: ['Read'] },
          { topic: 'sporbar.', prefixed: true, ops: ['Describe'] },
          { transactionalId: 'tx-', prefixed: true, ops: ['Write'] },
          { cluster: true, ops: ['IdempotentWrite'] },
        ],
      },
    ]);
    const base = { principal: 'User:sporbar-ingest', host: '*', permissionType: Permission.ALLOW };
    expect(acl).toEqual([
      { ...base, operation: Op.READ, resourceType: Resource.TOPIC, resourceName: 'sporbar.disclosures', resourcePatternType: Pattern.LITERAL },
      { ...base, operation: Op.READ, resourceType: Resource.GROUP, resourceName: 'sporbar-ingest', resourcePatternType: Pattern.LITERAL },
      { ...base, operation: Op.DESCRIBE, resourceType: Resource.TOPIC, resourceName: 'sporbar.', resourcePatternType: Pattern.PREFIXED },
      { ...base, operation: Op.WRITE, resourceType: Resource.TRANSACTIONAL_ID, resourceName: 'tx-', resourcePatternType: Pattern.PREFIXED },
      { ...base, operation: Op.IDEMPOTENT_WRITE, resourceType: Resource.CLUSTER, resourceName: 'kafka-cluster', resourcePatternType: Pattern.LITERAL },
    ]);
  });

  it('refuses what Kafka would not define or what cannot be written safely', () => {
    expect(() => aclEntriesFor([{ user: 'u', allow: [{ group: 'g', ops: ['Write'] }] }])).toThrow(/not defined for a group/);
    expect(() => aclEntriesFor([{ user: 'u', allow: [{ topic: 't', ops: [] }] }])).toThrow(/no operations/);
    expect(() => aclEntriesFor([{ user: 'u', allow: [{ topic: '', ops: ['Read'] }] }])).toThrow(/empty topic name/);
    expect(() => validatePrincipals([{ user: 'User:x' }])).toThrow(/invalid Kafka user name/);
    expect(() => validatePrincipals([{ user: 'u', password: 'short' }])).toThrow(/invalid password/);
    expect(() => validatePrincipals([{ user: 'u', password: 'has,a,comma,inside' }])).toThrow(/invalid password/);
    expect(() => validatePrincipals([{ user: 'u' }, { user: 'u' }])).toThrow(/listed twice/);
    expect(() => validatePrincipals([{ user: 'u', password: randomPassword() }])).not.toThrow();
  });
});

describe('the KAFKA_* client environment', () => {
  it('is plaintext with only KAFKA_BROKERS, and absent without it', () => {
    expect(kafkaClientSettingsFromEnv({})).toBeUndefined();
    expect(kafkaClientSettingsFromEnv({ KAFKA_BROKERS: ' a:1, b:2 ' })).toEqual({ brokers: ['a:1', 'b:2'] });
    expect(kafkaClientEnv({ brokers: ['a:1'] })).toEqual({ KAFKA_BROKERS: 'a:1' });
  });

  it('round-trips a secured client, reads the password from a file, and maps onto kafkajs options', () => {
    const settings = { brokers: ['h:9093'], ssl: { caFile: '/ca.crt' }, sasl: { mechanism: 'scram-sha-512' as const, username: 'u', password } };
    expect(kafkaClientSettingsFromEnv(kafkaClientEnv(settings))).toEqual(settings);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-env-'));
    try {
      fs.writeFileSync(path.join(dir, 'pw'), `${password}\n`);
      fs.writeFileSync(path.join(dir, 'ca.crt'), 'PEM');
      const fromFile = kafkaClientSettingsFromEnv({
        KAFKA_BROKERS: 'h:9093',
        KAFKA_CA_FILE: path.join(dir, 'ca.crt'),
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD_FILE: path.join(dir, 'pw'),
      });
      expect(fromFile?.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password });
      expect(kafkaClientOptions(fromFile!)).toEqual({ brokers: ['h:9093'], ssl: { ca: ['PEM'] }, sasl: { mechanism: 'scram-sha-512', username: 'u', password } });
      expect(kafkaClientOptions(fromFile!, { user: 'other', password: 'pw2' }).sasl).toEqual({ mechanism: 'scram-sha-512', username: 'other', password: 'pw2' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(kafkaClientSettingsFromEnv({ KAFKA_BROKERS: 'h:1', KAFKA_SSL: 'true' })).toEqual({ brokers: ['h:1'], ssl: {} });
    expect(kafkaClientOptions({ brokers: ['h:1'], ssl: {} })).toEqual({ brokers: ['h:1'], ssl: true });
  });

  it('refuses half a configuration and credentials without TLS', () => {
    expect(() => kafkaClientSettingsFromEnv({ KAFKA_BROKERS: 'h:1', KAFKA_SSL: 'true', KAFKA_SASL_USERNAME: 'u' })).toThrow(/must be set together/);
    expect(() => kafkaClientSettingsFromEnv({ KAFKA_BROKERS: 'h:1', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: password })).toThrow(/in clear/);
    expect(() =>
      kafkaClientSettingsFromEnv({ KAFKA_BROKERS: 'h:1', KAFKA_SSL: '1', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: password }),
    ).toThrow(/not supported/);
    expect(() => kafkaClientOptions({ brokers: ['h:1'] }, { user: 'u', password })).toThrow(/without TLS/);
  });
});

describe('SCRAM credentials for kafka-storage format', () => {
  it('is RFC 5802 SaltedPassword (PBKDF2-HMAC-SHA-512), 4096 iterations, in StorageTool syntax', () => {
    const salt = Buffer.from('0123456789abcdef');
    const credential = scramSha512Credential(password, salt);
    expect(credential).toEqual({
      salt: salt.toString('base64'),
      saltedPassword: pbkdf2Sync(password, salt, 4096, 64, 'sha512').toString('base64'),
      iterations: 4096,
    });
    expect(storageToolScramArgument('producer-mitid', credential)).toBe(
      `SCRAM-SHA-512=[name=producer-mitid,iterations=4096,salt="${credential.salt}",saltedpassword="${credential.saltedPassword}"]`,
    );
    expect(storageToolScramArgument('u', scramSha512Credential(password))).not.toContain(password);
  });
});

describe('secured server.properties', () => {
  const tls = { keystoreFile: '/t/broker.p12', truststoreFile: '/t/truststore.p12', storePassword: 'store-pw', caCertFile: '/t/ca.crt' } as BrokerTls;

  it('has a SASL_SSL client listener, an mTLS controller listener and deny-by-default ACLs', () => {
    const props = secureServerProperties({ host: '127.0.0.1', port: 9093, controllerPort: 9094, tls, adminPassword: 'admin-pw' });
    expect(props).toMatchObject({
      listeners: 'SASL_SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094',
      'advertised.listeners': 'SASL_SSL://127.0.0.1:9093',
      'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,CONTROLLER:SSL',
      'inter.broker.listener.name': 'SASL_SSL',
      'listener.name.controller.ssl.client.auth': 'required',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'allow.everyone.if.no.acl.found': false,
      'super.users': 'User:admin;User:CN=sporbar-kafka-broker',
    });
    expect(props['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config']).toBe(
      'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-pw";',
    );
    expect(cliClientProperties({ caCertFile: '/t/ca.crt', user: 'admin', password: 'admin-pw' })).toContain('ssl.truststore.location=/t/ca.crt\n');
    expect(cliClientProperties({ user: 'admin', password: 'admin-pw' })).not.toContain('truststore');
  });
});
