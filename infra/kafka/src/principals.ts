/**
 * Create Kafka principals (SCRAM-SHA-512 users) and their ACLs on a secured broker, from the
 * declarative description in acl.ts.
 *
 * - Users: `kafka.admin.ConfigCommand --alter --entity-type users --add-config-file` (kafka-configs,
 *   from the broker's own jars), connecting as the admin over SASL_SSL. kafkajs has no
 *   AlterUserScramCredentials API. The password is written to a 0600 file in a 0700 temp dir,
 *   never onto a command line. One JVM per user (ConfigCommand alters one entity per run): about
 *   2–3 s each. On a fresh broker, pass the principals to startKafkaBroker({ secure: { principals } })
 *   instead, and they are written at storage format time, at no extra cost.
 * - ACLs: kafkajs admin.createAcls as the admin (creating an ACL that exists is a no-op).
 *
 * Both are answered once the controller has committed them; the broker applies them when it replays
 * the metadata log, a moment later. So each call returns only once the broker shows the change: the
 * new users can log in, describeAcls lists the new ACLs (polled, at most PROPAGATION_TIMEOUT_MS).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { Kafka, logLevel, type AclEntry, type Admin } from 'kafkajs';
import { aclEntriesFor, validatePrincipals, type KafkaPrincipalSpec } from './acl.ts';
import { runJava } from './java.ts';
import { kafkaClientOptions, settingsOf, type KafkaClientSettings, type KafkaClientTarget } from './client-settings.ts';
import { ensureKafkaJars } from './jars.ts';
import { SCRAM_ITERATIONS } from './scram.ts';
import { cliClientProperties } from './security-config.ts';

const PROPAGATION_TIMEOUT_MS = 15_000;
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/** Poll `check` every 100 ms until it is true; throw `what` after PROPAGATION_TIMEOUT_MS. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + PROPAGATION_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not show on the broker within ${PROPAGATION_TIMEOUT_MS} ms`);
    await sleep(100);
  }
}

async function canLogIn(settings: KafkaClientSettings, user: string, password: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'sporbar-kafka-infra-provision-check',
    ...kafkaClientOptions(settings, { user, password }),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 0 },
  }).admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const aclKey = (a: AclEntry) =>
  [a.principal, a.host, a.operation, a.permissionType, a.resourceType, a.resourceName, a.resourcePatternType].join('|');

async function aclsVisible(admin: Admin, expected: readonly AclEntry[]): Promise<boolean> {
  const { resources } = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const present = new Set(resources.flatMap((r) => r.acls.map((a) => aclKey({ ...r, ...a }))));
  return expected.every((a) => present.has(aclKey(a)));
}

export interface ProvisionResult {
  /** Users whose SCRAM credentials were created or replaced. */
  users: string[];
  /** ACL entries sent to the broker. */
  acls: number;
  ms: number;
}

/** JVM flags for a short-lived Kafka CLI tool: small heap, C1 only (starts faster), quiet log4j. */
function toolJvmArgs(libsDir: string, log4jFile: string, mainClass: string, args: string[]): string[] {
  return [
    '-Xmx256m',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4jFile}`,
    '-cp',
    path.join(libsDir, '*'),
    mainClass,
    ...args,
  ];
}

/** Create or replace the SCRAM-SHA-512 credentials of `users` (one ConfigCommand run each). */
export async function upsertScramUsers(target: KafkaClientTarget, users: readonly { user: string; password: string }[]): Promise<void> {
  if (users.length === 0) return;
  validatePrincipals(users);
  const settings = settingsOf(target);
  if (!settings.sasl || !settings.ssl) throw new Error('creating Kafka users needs the admin credentials of a secured broker (SASL_SSL)');
  const libsDir = await ensureKafkaJars();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sporbar-kafka-users-')); // mode 0700
  try {
    const log4jFile = path.join(tmp, 'log4j.properties');
    fs.writeFileSync(log4jFile, 'log4j.rootLogger=WARN, err\nlog4j.appender.err=org.apache.log4j.ConsoleAppender\n' +
      'log4j.appender.err.Target=System.err\nlog4j.appender.err.layout=org.apache.log4j.PatternLayout\n' +
      'log4j.appender.err.layout.ConversionPattern=%p %m (%c)%n\n');
    const clientConfig = path.join(tmp, 'admin-client.properties');
    const client = cliClientProperties({ caCertFile: settings.ssl.caFile, user: settings.sasl.username, password: settings.sasl.password });
    fs.writeFileSync(clientConfig, client, { mode: 0o600 });
    for (const { user, password } of users) {
      const configFile = path.join(tmp, `${user}.properties`);
      // In the file the value has no brackets: ConfigCommand strips them only from --add-config.
      fs.writeFileSync(configFile, `SCRAM-SHA-512=iterations=${SCRAM_ITERATIONS},password=${password}\n`, { mode: 0o600 });
      try {
        await runJava(
          `kafka-configs --alter --entity-type users --entity-name ${user}`,
          toolJvmArgs(libsDir, log4jFile, 'kafka.admin.ConfigCommand', [
            '--bootstrap-server', settings.brokers.join(','),
            '--command-config', clientConfig,
            '--alter', '--entity-type', 'users', '--entity-name', user,
            '--add-config-file', configFile,
          ]),
          tmp,
        );
      } finally {
        fs.rmSync(configFile, { force: true });
      }
    }
    for (const { user, password } of users) await until(`the SCRAM user ${user}`, () => canLogIn(settings, user, password));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Create the ALLOW ACLs of `specs` (kafkajs createAcls, as the target's admin). */
export async function createPrincipalAcls(target: KafkaClientTarget, specs: readonly KafkaPrincipalSpec[]): Promise<number> {
  const acl = aclEntriesFor(specs);
  if (acl.length === 0) return 0;
  const kafka = new Kafka({
    clientId: 'sporbar-kafka-infra-provision',
    ...kafkaClientOptions(target),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl });
    await until(`${acl.length} new ACL entries`, () => aclsVisible(admin, acl));
  } finally {
    await admin.disconnect();
  }
  return acl.length;
}

/**
 * Make the principals in `specs` exist with (at least) the ACLs given: users that carry a password get
 * their SCRAM credentials created or replaced, then every ACL is created. `target` is a secured broker
 * (startKafkaBroker({ secure: true })) or admin client settings (e.g. kafkaClientSettingsFromEnv).
 */
export async function provisionKafkaPrincipals(target: KafkaClientTarget, specs: readonly KafkaPrincipalSpec[]): Promise<ProvisionResult> {
  const t0 = Date.now();
  validatePrincipals(specs);
  const users = specs.flatMap((s) => (s.password === undefined ? [] : [{ user: s.user, password: s.password }]));
  await upsertScramUsers(target, users);
  const acls = await createPrincipalAcls(target, specs);
  return { users: users.map((u) => u.user), acls, ms: Date.now() - t0 };
}
