/**
 * A deployment's key directory as data (pure, no I/O): which files it holds, which program reads
 * which, the producer registry built from a template, the Kafka principals and the env files. The
 * command line (cli.ts) reads the directory, asks `planKeyDir` what is missing and writes only that.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateSigningKey, loadSigningKey, publicKeyBase64url } from '@sporbar/auditor/checkpoint';
import type { ConfigProblem } from '@sporbar/common/config';
import { formatProducerKey, parseProducerKey } from '@sporbar/key-store/producer-auth';
import { allowListOf, parseProducerRegistry, processingRegister, type ProcessingRegister, type ProducerEntry, type ProducerRegistry, type RegisterFiles } from '@sporbar/schemas';

// ---------------------------------------------------------------------------------------------------
// Names

export const FILES = {
  keyIds: 'key-ids.json',
  sealKey: 'seal.key',
  sealPub: 'seal.pub',
  sealPrevious: 'seal-previous.keys',
  pseudonymKey: 'pseudonym.key',
  pseudonymPrevious: 'pseudonym-previous.keys',
  masterKey: 'master.key',
  masterPrevious: 'master-previous.keys',
  routingSecret: 'routing.secret',
  checkpointKey: 'checkpoint.key',
  /** The subject map's key (docs/subject-map.md): the log service builds the map with it, the access API asks for a citizen's proofs, the auditor recomputes it. */
  subjectMapKey: 'subject-map.key',
  checkpointPub: 'checkpoint.pub.pem',
  accessTokenKey: 'access-token.key',
  accessTokenPub: 'access-token.pub.pem',
  producers: 'producers.json',
  /** The registry without keys, for the gateway (it decides who may send what, and must not hold other producers' secrets). */
  producersAllowList: 'producers.allowlist.json',
  kafkaPrincipals: 'kafka-principals.json',
} as const;

export const producerKeyFile = (id: string): string => `producer-${id}.key`;
export const producerEnvFile = (id: string): string => `producer-${id}.env`;
export const kafkaPasswordFile = (user: string): string => `kafka-${user}.password`;

/** The producer ids the programs of a deployment write as (the gateway's is its SPORBAR_GATEWAY_PRODUCER_ID default). */
export const ACCESS_API_PRODUCER = 'sporbar-access-api';
export const RETENTION_PRODUCER = 'sporbar-retention';
export const GATEWAY_PRODUCER = 'http-ingest';

export const TOPIC = 'sporbar.disclosures';
export const DLQ_TOPIC = `${TOPIC}.dlq`;
export const INGEST_GROUP = 'sporbar-ingest';
export const REDRIVE_GROUP = `${DLQ_TOPIC}.redrive`;

/** The ids the env files name; rotation moves them on (k1 → k2, m1 → m2). */
export interface KeyIds {
  readonly pseudonymKeyId: string;
  readonly masterKeyId: string;
}
export const INITIAL_KEY_IDS: KeyIds = { pseudonymKeyId: 'k1', masterKeyId: 'm1' };

/** k1 → k2, m9 → m10, p1 → p2. */
export function nextKeyId(id: string): string {
  const m = /^([a-z]*)([0-9]+)$/.exec(id);
  if (!m) throw new Error(`cannot count on from key id '${id}'`);
  return `${m[1]}${Number(m[2]) + 1}`;
}

// ---------------------------------------------------------------------------------------------------
// Key material (every generator is node:crypto's CSPRNG or a Sporbar key helper)

/** 32 random bytes, base64url: pseudonym keys, master keys, routing secrets, producer HMAC keys, SCRAM passwords. */
export const randomSecret = (): string => randomBytes(32).toString('base64url');

// RFC 8410 DER prefix of an X25519 private key (PKCS#8) holding the 32 raw bytes.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The seal public key (base64url, raw 32 bytes: SPORBAR_SEAL_PUBLIC_KEY) of a seal private key (SPORBAR_SEAL_PRIVATE_KEY). */
export function sealPublicKeyOf(privateKey: string): string {
  const raw = Buffer.from(privateKey.trim(), 'base64url');
  if (raw.length !== 32) throw new Error(`the seal private key must be 32 bytes (base64url), got ${raw.length}`);
  const spki = createPublicKey(createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
  return Buffer.from(spki.subarray(spki.length - 32)).toString('base64url');
}

/** A fresh checkpoint signing key as PKCS#8 PEM (what SPORBAR_CHECKPOINT_KEY_FILE holds). */
export const newCheckpointKeyPem = (): string => generateSigningKey().privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/** The checkpoint verifier key of a signing key: SPKI PEM, raw base64url and key id. */
export function checkpointPublicOf(privatePem: string): { pem: string; raw: string; keyId: string } {
  const key = loadSigningKey(privatePem);
  return { pem: key.publicKey.export({ format: 'pem', type: 'spki' }).toString(), raw: publicKeyBase64url(key), keyId: key.keyId };
}

/** A fresh ES256 (P-256) key pair's private half, PKCS#8 PEM: signs access tokens. */
export const newAccessTokenKeyPem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/** Its public half, SPKI PEM: the access API's SPORBAR_JWT_PUBLIC_KEY. */
export function accessTokenPublicOf(privatePem: string): string {
  const key = createPrivateKey(privatePem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('the access-token key must be an ES256 (P-256) private key');
  return createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString();
}

// ---------------------------------------------------------------------------------------------------
// The producer registry from a template

/** A producer registry entry without keys: what `--producers <template.json>` lists. */
export type ProducerTemplateEntry = Omit<ProducerEntry, 'keys'>;

/**
 * Checks a template (parsed JSON: `{ "producers": [ … ] }`, each a registry entry without `keys`)
 * with the registry's own parser, so a template is refused for exactly what a registry would be.
 * `register`: what its activity ids are checked against (`--register-dir`: any notice version's
 * activity; default the packaged register).
 */
export function parseProducerTemplate(doc: unknown, register: ProcessingRegister | RegisterFiles = processingRegister): ProducerTemplateEntry[] {
  const problems: string[] = [];
  const list = typeof doc === 'object' && doc !== null && Array.isArray((doc as { producers?: unknown }).producers) ? ((doc as { producers: unknown[] }).producers) : undefined;
  if (!list) throw new Error('a producer template is {"producers": [ … ]}: registry entries without keys');
  const placeholder = { keyId: 'p0', algorithm: 'hmac-sha256', secret: Buffer.alloc(32, 1).toString('base64url') };
  const withKeys = list.map((p, i) => {
    if (typeof p === 'object' && p !== null && 'keys' in p) problems.push(`$.producers[${i}].keys: a template holds no keys (keys init makes them)`);
    return typeof p === 'object' && p !== null ? { ...p, keys: [placeholder] } : p;
  });
  const { $comment: _c, development, ...rest } = doc as Record<string, unknown>;
  if (development === true) problems.push('$.development: a deployment registry is never a development one');
  try {
    const parsed = parseProducerRegistry({ ...rest, producers: withKeys }, register);
    if (problems.length === 0) return parsed.producers.map(({ keys: _k, ...entry }) => entry);
  } catch (err) {
    problems.push((err as Error).message);
  }
  throw new Error(problems.join('; '));
}

/** The registry document (`development: false`) with the given HMAC key of each producer. */
export function registryDocument(template: readonly ProducerTemplateEntry[], keyOf: (id: string) => { keyId: string; secret: string }): object {
  return {
    $comment: 'The producer registry of this deployment (sporbar keys init): SPORBAR_PRODUCER_REGISTRY of the ingest. It holds HMAC keys: a secret file.',
    development: false,
    producers: template.map((p) => {
      const key = keyOf(p.id);
      return { ...p, keys: [{ keyId: key.keyId, algorithm: 'hmac-sha256', secret: key.secret }] };
    }),
  };
}

/** The producer key file of a producer (SPORBAR_PRODUCER_KEY): its newest HMAC key in the registry. */
export function producerKeyFromRegistry(registry: ProducerRegistry, id: string): string | undefined {
  const entry = registry.producers.find((p) => p.id === id);
  const key = entry?.keys.at(-1);
  if (!key || key.algorithm !== 'hmac-sha256') return undefined;
  return formatProducerKey({ producerId: id, keyId: key.keyId, algorithm: key.algorithm, secret: key.secret });
}

// ---------------------------------------------------------------------------------------------------
// Programs and their Kafka principals

/** What a deployment runs, as the registry says it: the gateway if it lists http-ingest, each operational system. */
export interface Shape {
  /** Operational systems (not internal, not the gateway): each gets producer-<id>.env and the Kafka user producer-<id>. */
  readonly systems: readonly string[];
  readonly gateway: boolean;
}

export function shapeOf(registry: ProducerRegistry): Shape {
  return {
    systems: registry.producers.filter((p) => !p.internal && p.id !== GATEWAY_PRODUCER).map((p) => p.id),
    gateway: registry.producers.some((p) => p.id === GATEWAY_PRODUCER),
  };
}

/** The registry must hold the principals the deployment's own programs write as. */
export function shapeProblems(registry: ProducerRegistry): string[] {
  const problems: string[] = [];
  for (const [id, who] of [[ACCESS_API_PRODUCER, 'the access API (ReportViewed)'], [RETENTION_PRODUCER, 'the retention worker (RetentionExpired)']] as const) {
    const p = registry.producers.find((e) => e.id === id);
    if (!p) problems.push(`the producer registry has no ${id}: ${who} writes as it`);
    else if (!p.internal) problems.push(`${id} must be internal: true`);
  }
  return problems;
}

/** `KafkaPrincipalSpec` of infra/kafka/src/acl.ts (the provision command's input), as plain data. */
export interface KafkaPrincipal {
  readonly user: string;
  readonly password: string;
  readonly allow: ReadonlyArray<{ readonly topic: string; readonly ops: readonly ['Read' | 'Write'] } | { readonly group: string; readonly ops: readonly ['Read'] }>;
}

/** The Kafka users of the README's "Kafka principals" table, without passwords. */
export function kafkaUsers(shape: Shape): Array<Omit<KafkaPrincipal, 'password'>> {
  const write = { topic: TOPIC, ops: ['Write'] } as const;
  return [
    { user: 'sporbar-ingest', allow: [{ topic: TOPIC, ops: ['Read'] }, { group: INGEST_GROUP, ops: ['Read'] }, { topic: DLQ_TOPIC, ops: ['Write'] }] },
    ...shape.systems.map((id) => ({ user: `producer-${id}`, allow: [write] })),
    ...(shape.gateway ? [{ user: 'producer-gateway', allow: [write] }] : []),
    { user: 'sporbar-access-api', allow: [write] },
    { user: 'sporbar-redrive', allow: [{ topic: DLQ_TOPIC, ops: ['Read'] }, { group: REDRIVE_GROUP, ops: ['Read'] }, write] },
    { user: 'sporbar-retention', allow: [write] },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Env files

export type EnvLines = ReadonlyArray<readonly [string, string]>;

/** `NAME=value` lines (no `export`, no quotes: every value is a path, an id or a user name). */
export const envFileText = (lines: EnvLines): string => lines.map(([k, v]) => `${k}=${v}\n`).join('');

/** `NAME=value` lines → entries (blank lines and `#` comments skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`not a NAME=value line: ${line.slice(0, 40)}`);
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

export interface EnvContext {
  /** The key directory, absolute. */
  readonly dir: string;
  readonly ids: KeyIds;
  readonly shape: Shape;
  /** Whether pseudonym-previous.keys / seal-previous.keys / master-previous.keys exist (during or after a rotation). */
  readonly pseudonymPrevious: boolean;
  readonly sealPrevious: boolean;
  readonly masterPrevious: boolean;
}

/** Each program's env file: only what it needs, secrets only by *_FILE. */
export function envFiles(c: EnvContext): Map<string, EnvLines> {
  const f = (name: string) => join(c.dir, name);
  const kafka = (user: string): EnvLines => [['KAFKA_SASL_USERNAME', user], ['KAFKA_SASL_PASSWORD_FILE', f(kafkaPasswordFile(user))]];
  const sealPublic: EnvLines = [['SPORBAR_SEAL_PUBLIC_KEY_FILE', f(FILES.sealPub)], ['SPORBAR_ROUTING_SECRET_FILE', f(FILES.routingSecret)]];
  const pseudonym: EnvLines = [['SPORBAR_PSEUDONYM_KEY_FILE', f(FILES.pseudonymKey)], ['SPORBAR_PSEUDONYM_KEY_ID', c.ids.pseudonymKeyId]];
  const master: EnvLines = [
    ['SPORBAR_MASTER_KEY_FILE', f(FILES.masterKey)],
    ['SPORBAR_MASTER_KEY_ID', c.ids.masterKeyId],
    ...(c.masterPrevious ? [['SPORBAR_MASTER_PREVIOUS_KEYS_FILE', f(FILES.masterPrevious)] as const] : []),
  ];
  const files = new Map<string, EnvLines>([
    ['ingest.env', [
      ['SPORBAR_SEAL_PRIVATE_KEY_FILE', f(FILES.sealKey)],
      ...(c.sealPrevious ? [['SPORBAR_SEAL_PREVIOUS_PRIVATE_KEYS_FILE', f(FILES.sealPrevious)] as const] : []),
      ...pseudonym,
      ...(c.pseudonymPrevious ? [['SPORBAR_PSEUDONYM_PREVIOUS_KEYS_FILE', f(FILES.pseudonymPrevious)] as const] : []),
      ...master,
      ['SPORBAR_PRODUCER_REGISTRY', f(FILES.producers)],
      ...kafka('sporbar-ingest'),
    ]],
    ['redrive.env', kafka('sporbar-redrive')],
    ['projector.env', [['SPORBAR_STORE', 'postgres']]],
    ['access-api.env', [
      ...sealPublic,
      ...pseudonym,
      ...(c.pseudonymPrevious ? [['SPORBAR_PSEUDONYM_PREVIOUS_KEYS_FILE', f(FILES.pseudonymPrevious)] as const] : []),
      ...master,
      ['SPORBAR_PRODUCER_KEY_FILE', f(producerKeyFile(ACCESS_API_PRODUCER))],
      ['SPORBAR_JWT_PUBLIC_KEY_FILE', f(FILES.accessTokenPub)],
      ['SPORBAR_SUBJECT_MAP_KEY_FILE', f(FILES.subjectMapKey)],
      // The event store (its DATABASE_URL): citizens' proof downloads and auditors' entry bundles read the stored bytes.
      ['SPORBAR_STORE', 'postgres'],
      ...kafka('sporbar-access-api'),
    ]],
    ['log.env', [['SPORBAR_CHECKPOINT_KEY_FILE', f(FILES.checkpointKey)], ['SPORBAR_SUBJECT_MAP_KEY_FILE', f(FILES.subjectMapKey)]]],
    ['retention.env', [['SPORBAR_PRODUCER_KEY_FILE', f(producerKeyFile(RETENTION_PRODUCER))], ...sealPublic, ...kafka('sporbar-retention')]],
    ['auditor.env', [['SPORBAR_CHECKPOINT_PUBLIC_KEY_FILE', f(FILES.checkpointPub)], ['SPORBAR_SUBJECT_MAP_KEY_FILE', f(FILES.subjectMapKey)]]],
  ]);
  if (c.shape.gateway) {
    files.set('gateway.env', [...sealPublic, ['SPORBAR_GATEWAY_PRODUCER_ID', GATEWAY_PRODUCER], ['SPORBAR_PRODUCER_REGISTRY', f(FILES.producersAllowList)], ['SPORBAR_PRODUCER_KEY_FILE', f(producerKeyFile(GATEWAY_PRODUCER))], ...kafka('producer-gateway')]);
  }
  for (const id of c.shape.systems) {
    files.set(producerEnvFile(id), [['SPORBAR_PRODUCER_ID', id], ...sealPublic, ['SPORBAR_PRODUCER_KEY_FILE', f(producerKeyFile(id))], ...kafka(`producer-${id}`)]);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------
// The plan: what `keys init` writes

export interface Generators {
  sealKey(): Promise<string>;
  secret(): string;
  checkpointKey(): string;
  accessTokenKey(): string;
}

export interface Plan {
  /** Files to create, in this order (none of them exists). */
  readonly create: ReadonlyArray<{ readonly name: string; readonly content: string }>;
  /** Files that exist and are kept as they are. */
  readonly kept: readonly string[];
  readonly problems: readonly ConfigProblem[];
  /** The public parts, for the operator's output. */
  readonly publics?: { readonly sealPublicKey: string; readonly checkpoint: { pem: string; raw: string; keyId: string } };
}

const parseJson = (text: string): unknown => JSON.parse(text) as unknown;

/**
 * What `keys init` writes into a directory that holds `existing` (file name → content): every file
 * of the deployment that is missing, derived from what is there (a public key from its private key,
 * a producer key file from the registry and the other way round, the Kafka principals from the
 * password files) or fresh. Nothing that exists is in `create`. A kept file that contradicts another
 * (a public key that is not its private key's) is a problem, and then nothing is written.
 */
export async function planKeyDir(
  dir: string,
  existing: ReadonlyMap<string, string>,
  template: readonly ProducerTemplateEntry[],
  gen: Generators,
  /** What the registry's activity ids are checked against (`--register-dir`; default the packaged register). */
  register: ProcessingRegister | RegisterFiles = processingRegister,
): Promise<Plan> {
  const problems: ConfigProblem[] = [];
  const create: Array<{ name: string; content: string }> = [];
  const kept: string[] = [];
  const content = new Map(existing);
  /** The file's content: kept if it exists, else made (and created). */
  const ensure = async (name: string, make: () => string | Promise<string>): Promise<string> => {
    const have = content.get(name);
    if (have !== undefined) {
      kept.push(name);
      return have;
    }
    const made = await make();
    content.set(name, made);
    create.push({ name, content: made });
    return made;
  };
  const check = (name: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      problems.push({ variable: name, problem: (err as Error).message });
    }
  };

  // Key ids: without them the env files could name the wrong id for a kept key.
  let ids = INITIAL_KEY_IDS;
  if (!existing.has(FILES.keyIds) && (existing.has(FILES.pseudonymKey) || existing.has(FILES.masterKey))) {
    problems.push({ variable: FILES.keyIds, problem: `is missing while ${FILES.pseudonymKey} or ${FILES.masterKey} exists: restore it (it names their key ids) rather than guess` });
  }
  const idsText = await ensure(FILES.keyIds, () => `${JSON.stringify(INITIAL_KEY_IDS, null, 2)}\n`);
  check(FILES.keyIds, () => {
    const doc = parseJson(idsText) as Partial<KeyIds>;
    if (typeof doc.pseudonymKeyId !== 'string' || typeof doc.masterKeyId !== 'string') throw new Error('must name pseudonymKeyId and masterKeyId');
    ids = { pseudonymKeyId: doc.pseudonymKeyId, masterKeyId: doc.masterKeyId };
  });

  const sealKey = (await ensure(FILES.sealKey, async () => `${await gen.sealKey()}\n`)).trim();
  let sealPublicKey = '';
  check(FILES.sealKey, () => void (sealPublicKey = sealPublicKeyOf(sealKey)));
  const sealPub = (await ensure(FILES.sealPub, () => `${sealPublicKey}\n`)).trim();
  if (sealPublicKey && sealPub !== sealPublicKey) problems.push({ variable: FILES.sealPub, problem: `is not the public key of ${FILES.sealKey}` });

  await ensure(FILES.pseudonymKey, () => `${gen.secret()}\n`);
  await ensure(FILES.masterKey, () => `${gen.secret()}\n`);
  await ensure(FILES.routingSecret, () => `${gen.secret()}\n`);
  await ensure(FILES.subjectMapKey, () => `${gen.secret()}\n`);

  const checkpointKey = await ensure(FILES.checkpointKey, () => gen.checkpointKey());
  let checkpoint: { pem: string; raw: string; keyId: string } | undefined;
  check(FILES.checkpointKey, () => void (checkpoint = checkpointPublicOf(checkpointKey)));
  const checkpointPub = await ensure(FILES.checkpointPub, () => checkpoint?.pem ?? '');
  if (checkpoint && checkpointPub.trim() !== checkpoint.pem.trim()) problems.push({ variable: FILES.checkpointPub, problem: `is not the public key of ${FILES.checkpointKey}` });

  const tokenKey = await ensure(FILES.accessTokenKey, () => gen.accessTokenKey());
  let tokenPublic = '';
  check(FILES.accessTokenKey, () => void (tokenPublic = accessTokenPublicOf(tokenKey)));
  const tokenPub = await ensure(FILES.accessTokenPub, () => tokenPublic);
  if (tokenPublic && tokenPub.trim() !== tokenPublic.trim()) problems.push({ variable: FILES.accessTokenPub, problem: `is not the public key of ${FILES.accessTokenKey}` });

  // The producer registry: kept, or built from the template with the kept producer key files' keys (else fresh ones).
  const registryText = await ensure(FILES.producers, () => {
    const doc = registryDocument(template, (id) => {
      const file = existing.get(producerKeyFile(id));
      if (file !== undefined) {
        try {
          const key = parseProducerKey(id, file.trim());
          if (key.algorithm === 'hmac-sha256') return key;
        } catch {
          // refused below, when the key file is compared with the registry
        }
      }
      return { keyId: 'p1', secret: gen.secret() };
    });
    return `${JSON.stringify(doc, null, 2)}\n`;
  });
  let registry: ProducerRegistry | undefined;
  check(FILES.producers, () => {
    registry = parseProducerRegistry(parseJson(registryText), register);
    if (registry.development) throw new Error('is a development registry (public keys): a deployment needs its own');
  });
  if (!registry) return { create: [], kept, problems };
  for (const p of shapeProblems(registry)) problems.push({ variable: FILES.producers, problem: p });
  const keyless = allowListOf(registry);
  await ensure(FILES.producersAllowList, () => `${JSON.stringify(keyless, null, 2)}\n`);
  for (const p of registry.producers) {
    const fromRegistry = producerKeyFromRegistry(registry, p.id);
    const name = producerKeyFile(p.id);
    if (fromRegistry === undefined) {
      if (!existing.has(name)) problems.push({ variable: name, problem: `is missing and cannot be made: ${p.id}'s newest key in the registry is not an HMAC key` });
      else kept.push(name);
      continue;
    }
    const file = (await ensure(name, () => `${fromRegistry}\n`)).trim();
    const key = file.split(':').slice(0, 2).join(':');
    if (!p.keys.some((k) => `${k.algorithm}:${k.keyId}` === key && (k.algorithm !== 'hmac-sha256' || file === formatProducerKey({ producerId: p.id, ...k })))) {
      problems.push({ variable: name, problem: `is not one of ${p.id}'s keys in ${FILES.producers}` });
    }
  }

  // Kafka: a password per user, kept from its file, else from the kept principals file, else fresh.
  const shape = shapeOf(registry);
  let principalsDoc: KafkaPrincipal[] = [];
  if (existing.has(FILES.kafkaPrincipals)) check(FILES.kafkaPrincipals, () => void (principalsDoc = parseJson(existing.get(FILES.kafkaPrincipals)!) as KafkaPrincipal[]));
  const principals: KafkaPrincipal[] = [];
  for (const u of kafkaUsers(shape)) {
    const known = principalsDoc.find((p) => p.user === u.user)?.password;
    const password = (await ensure(kafkaPasswordFile(u.user), () => `${known ?? gen.secret()}\n`)).trim();
    if (known !== undefined && known !== password) problems.push({ variable: kafkaPasswordFile(u.user), problem: `differs from ${u.user}'s password in ${FILES.kafkaPrincipals}` });
    principals.push({ user: u.user, password, allow: u.allow });
  }
  await ensure(FILES.kafkaPrincipals, () => `${JSON.stringify(principals, null, 2)}\n`);

  const envs = envFiles({ dir, ids, shape, pseudonymPrevious: content.has(FILES.pseudonymPrevious), sealPrevious: content.has(FILES.sealPrevious), masterPrevious: content.has(FILES.masterPrevious) });
  for (const [name, lines] of envs) await ensure(name, () => envFileText(lines));

  if (problems.length > 0) return { create: [], kept, problems };
  return { create, kept, problems, publics: { sealPublicKey: sealPub, checkpoint: checkpoint! } };
}
