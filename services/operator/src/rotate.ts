/**
 * `sporbar keys rotate <kind> --keys <dir>`: one key of a deployment replaced, the env files written
 * again, and what to restart in which order printed. Each rotation can be run again after a crash:
 * the new key is written to the directory (a `rotation-<kind>.json` stage, 0600) before anything
 * depends on it, and every later step is derived from the old and the staged key.
 *
 * producers.json is parsed without checking its activity ids against a register: a rotation changes
 * keys, never an allow-list; the ids were checked by `keys init` (against `--register-dir` when the
 * deployment runs with another register) and are checked again by the ingest and the gateway at start,
 * against the register they run with.
 */
import { rmSync } from 'node:fs';
import pg from 'pg';
import { configError, envString, loadConfig, type ConfigProblem } from '@sporbar/common/config';
import { createSubjectKeyStore, generateSealKeyPair, parseMasterKey, parsePreviousMasterKeys, parsePreviousPseudonymKeys } from '@sporbar/key-store';
import { parseProducerRegistry, type ProducerRegistry } from '@sporbar/schemas';
import {
  checkpointPublicOf,
  envFiles,
  envFileText,
  FILES,
  kafkaPasswordFile,
  newAccessTokenKeyPem,
  newCheckpointKeyPem,
  nextKeyId,
  producerKeyFile,
  producerKeyFromRegistry,
  randomSecret,
  sealPublicKeyOf,
  shapeOf,
  accessTokenPublicOf,
  type KafkaPrincipal,
  type KeyIds,
} from './deployment.ts';
import { createFile, readKeyDir, replaceFile } from './key-dir.ts';

export const ROTATION_KINDS = ['pseudonym', 'master', 'producer', 'routing', 'seal', 'checkpoint', 'access-token', 'kafka'] as const;
export type RotationKind = (typeof ROTATION_KINDS)[number];

export interface RotateOptions {
  readonly producer?: string | undefined;
  readonly user?: string | undefined;
  readonly finish?: boolean | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The rotation's database: only `keys rotate master` reads it. */
export const rotateMasterEnv = {
  DATABASE_URL: envString({ required: true, redact: true, meaning: 'PostgreSQL of the subject key table whose data keys `sporbar keys rotate master --finish` re-wraps' }),
} as const;

const refuse = (command: string, problems: ConfigProblem[]) => configError(`sporbar keys rotate ${command}`, problems);

interface Dir {
  readonly dir: string;
  readonly files: Map<string, string>;
  readonly ids: KeyIds;
  readonly registry: ProducerRegistry;
}

function openDir(dir: string, kind: string): Dir {
  let files: Map<string, string>;
  try {
    files = readKeyDir(dir);
  } catch (err) {
    throw refuse(kind, [{ variable: '--keys', problem: `cannot read ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'}): run sporbar keys init first` }]);
  }
  const missing = [FILES.keyIds, FILES.producers].filter((f) => !files.has(f));
  if (missing.length) throw refuse(kind, missing.map((f) => ({ variable: '--keys', problem: `${dir} has no ${f}: run sporbar keys init first` })));
  const ids = JSON.parse(files.get(FILES.keyIds)!) as KeyIds;
  const registry = parseProducerRegistry(JSON.parse(files.get(FILES.producers)!));
  return { dir, files, ids, registry };
}

/** Writes every program's env file again from the directory as it now is. */
function rewriteEnvFiles(dir: string): string[] {
  const files = readKeyDir(dir);
  const ids = JSON.parse(files.get(FILES.keyIds)!) as KeyIds;
  const registry = parseProducerRegistry(JSON.parse(files.get(FILES.producers)!));
  const envs = envFiles({ dir, ids, shape: shapeOf(registry), pseudonymPrevious: files.has(FILES.pseudonymPrevious), sealPrevious: files.has(FILES.sealPrevious), masterPrevious: files.has(FILES.masterPrevious) });
  const changed: string[] = [];
  for (const [name, lines] of envs) {
    const text = envFileText(lines);
    if (files.get(name) !== text) {
      replaceFile(dir, name, text);
      changed.push(name);
    }
  }
  return changed;
}

/** A staged new key: created once, read back when the rotation runs again. */
interface Stage {
  readonly fromId: string;
  readonly id: string;
  readonly secret: string;
}
function stage(d: Dir, kind: string, make: () => Stage): Stage {
  const name = `rotation-${kind}.json`;
  const have = d.files.get(name);
  if (have !== undefined) return JSON.parse(have) as Stage;
  const s = make();
  createFile(d.dir, name, `${JSON.stringify(s)}\n`);
  return s;
}
const unstage = (d: Dir, kind: string) => rmSync(`${d.dir}/rotation-${kind}.json`, { force: true });
const secretOf = (d: Dir, name: string) => d.files.get(name)!.trim();
const writeIds = (d: Dir, ids: KeyIds) => replaceFile(d.dir, FILES.keyIds, `${JSON.stringify(ids, null, 2)}\n`);

function report(lines: string[], envChanged: string[]): string {
  return [...lines, `env files written again: ${envChanged.length ? envChanged.join(' ') : '(none changed)'}`, ''].join('\n');
}

async function rotatePseudonym(d: Dir): Promise<string> {
  const s = stage(d, 'pseudonym', () => ({ fromId: d.ids.pseudonymKeyId, id: nextKeyId(d.ids.pseudonymKeyId), secret: randomSecret() }));
  const current = secretOf(d, FILES.pseudonymKey);
  if (current !== s.secret) {
    // The old key joins the previous keys (look-ups only), newest first.
    const previous = parsePreviousPseudonymKeys(d.files.get(FILES.pseudonymPrevious)).filter((k) => k.id !== s.fromId);
    replaceFile(d.dir, FILES.pseudonymPrevious, `${[{ id: s.fromId, secret: current }, ...previous].map((k) => `${k.id}:${k.secret}`).join(',')}\n`);
    replaceFile(d.dir, FILES.pseudonymKey, `${s.secret}\n`);
  }
  writeIds(d, { ...d.ids, pseudonymKeyId: s.id });
  unstage(d, 'pseudonym');
  return report(
    [
      `pseudonym key ${s.fromId} → ${s.id}; ${s.fromId} moved to ${FILES.pseudonymPrevious} (SPORBAR_PSEUDONYM_PREVIOUS_KEYS_FILE of the access API: old pseudonyms stay findable).`,
      'restart: every access API instance first (it then finds both), then the ingest (new events are stored under the new pseudonym).',
    ],
    rewriteEnvFiles(d.dir),
  );
}

/**
 * Two steps, no downtime: the new master becomes current and the old one "previous" (the ingest and
 * the API unwrap with both, wrap with the new one); `--finish` re-wraps every data key still under an
 * old master in DATABASE_URL, checks none is left and drops the old master.
 */
async function rotateMaster(d: Dir, o: RotateOptions): Promise<string> {
  const previousText = d.files.get(FILES.masterPrevious);
  if (o.finish) {
    const { DATABASE_URL } = loadConfig('sporbar keys rotate master --finish', rotateMasterEnv, o.env);
    if (previousText === undefined) throw refuse('master', [{ variable: '--finish', problem: `no master rotation is under way (${FILES.masterPrevious} is absent)` }]);
    const current = parseMasterKey({ id: d.ids.masterKeyId, secret: secretOf(d, FILES.masterKey) }, FILES.masterKey);
    const previous = parsePreviousMasterKeys(previousText);
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    let rewrapped: number;
    const started = performance.now();
    try {
      const keys = createSubjectKeyStore({ db: pool, masterKey: current, previousMasterKeys: previous, cacheSize: 0 });
      rewrapped = (await keys.rotateMaster(current)).rewrapped;
      const left = await pool.query<{ n: string }>('SELECT count(*) AS n FROM public.subject_keys WHERE wrapped IS NOT NULL AND master_key_id IS DISTINCT FROM $1', [current.id]);
      if (Number(left.rows[0]!.n) > 0) {
        throw new Error(`${left.rows[0]!.n} data keys are still wrapped under an old master: an ingest or API instance still runs without the new master key. Restart every instance with the new env files and run this again`);
      }
    } finally {
      await pool.end();
    }
    const ms = performance.now() - started;
    rmSync(`${d.dir}/${FILES.masterPrevious}`);
    return report(
      [
        `master key ${current.id}: ${rewrapped} data keys re-wrapped in ${Math.round(ms)} ms; none is left under ${previous.map((k) => k.id).join(', ')}, which ${FILES.masterPrevious} no longer holds.`,
        'restart every ingest and access API instance (the old master leaves their memory).',
      ],
      rewriteEnvFiles(d.dir),
    );
  }
  if (previousText !== undefined && !d.files.has('rotation-master.json')) {
    throw refuse('master', [{ variable: FILES.masterPrevious, problem: 'a master rotation is under way: run keys rotate master --finish first' }]);
  }
  const s = stage(d, 'master', () => ({ fromId: d.ids.masterKeyId, id: nextKeyId(d.ids.masterKeyId), secret: randomSecret() }));
  parseMasterKey({ id: s.id, secret: s.secret }, 'the new master key');
  const current = secretOf(d, FILES.masterKey);
  if (current !== s.secret) {
    replaceFile(d.dir, FILES.masterPrevious, `${s.fromId}:${current}\n`);
    replaceFile(d.dir, FILES.masterKey, `${s.secret}\n`);
  }
  writeIds(d, { ...d.ids, masterKeyId: s.id });
  unstage(d, 'master');
  return report(
    [
      `master key ${s.fromId} → ${s.id}; ${s.fromId} moved to ${FILES.masterPrevious} (SPORBAR_MASTER_PREVIOUS_KEYS_FILE of the ingest and the access API: it still unwraps, never wraps).`,
      'restart every ingest and access API instance, then run: DATABASE_URL=… npx sporbar keys rotate master --finish --keys <dir>',
    ],
    rewriteEnvFiles(d.dir),
  );
}

async function rotateProducer(d: Dir, o: RotateOptions): Promise<string> {
  const id = o.producer;
  const entry = d.registry.producers.find((p) => p.id === id);
  if (!id || !entry) throw refuse('producer', [{ variable: '--producer', problem: `must name a producer of ${FILES.producers}: ${d.registry.producers.map((p) => p.id).join(', ')}` }]);
  const keyFile = producerKeyFile(id);
  const doc = JSON.parse(d.files.get(FILES.producers)!) as { producers: Array<{ id: string; keys: Array<{ keyId: string; algorithm: string; secret?: string }> }> };
  const p = doc.producers.find((e) => e.id === id)!;
  const inUse = d.files.get(keyFile)?.trim().split(':')[1];
  const lines: string[] = [];
  if (o.finish) {
    const dropped = p.keys.filter((k) => k.keyId !== inUse).map((k) => k.keyId);
    p.keys = p.keys.filter((k) => k.keyId === inUse);
    if (p.keys.length === 0) throw refuse('producer', [{ variable: keyFile, problem: `names no key of ${id} in ${FILES.producers}` }]);
    if (dropped.length) replaceFile(d.dir, FILES.producers, `${JSON.stringify(doc, null, 2)}\n`);
    lines.push(`${id}: ${dropped.length ? `key(s) ${dropped.join(', ')} removed` : 'no old key left'}; ${inUse} stays.`, 'restart the ingest: events signed with a removed key now go to the dead-letter topic.');
  } else {
    const newest = p.keys.at(-1)!;
    if (newest.keyId === inUse && p.keys.length > 1) {
      throw refuse('producer', [{ variable: '--producer', problem: `a rotation of ${id} is under way (keys ${p.keys.map((k) => k.keyId).join(', ')} listed, ${inUse} in use): run it with --finish first` }]);
    }
    if (newest.keyId === inUse) {
      // The new key is listed beside the old one: the ingest accepts both until --finish.
      const used = new Set(p.keys.map((k) => k.keyId));
      let keyId = nextKeyId(/^[a-z]*[0-9]+$/.test(newest.keyId) ? newest.keyId : 'p1');
      while (used.has(keyId)) keyId = nextKeyId(keyId);
      p.keys.push({ keyId, algorithm: 'hmac-sha256', secret: randomSecret() });
      replaceFile(d.dir, FILES.producers, `${JSON.stringify(doc, null, 2)}\n`);
    }
    const registry = parseProducerRegistry(doc);
    replaceFile(d.dir, keyFile, `${producerKeyFromRegistry(registry, id)}\n`);
    lines.push(
      `${id}: new key ${registry.producers.find((e) => e.id === id)!.keys.at(-1)!.keyId} added to ${FILES.producers} beside ${p.keys.slice(0, -1).map((k) => k.keyId).join(', ')}; ${keyFile} now holds it.`,
      `restart: the ingest first (it accepts both keys), then ${id} (it signs with the new one); once its spool is empty and the ingest has caught up, run this again with --finish.`,
    );
  }
  return report(lines, rewriteEnvFiles(d.dir));
}

async function rotateSeal(d: Dir, o: RotateOptions): Promise<string> {
  if (o.finish) {
    rmSync(`${d.dir}/${FILES.sealPrevious}`, { force: true });
    return report(['seal: the previous private keys are deleted; restart the ingest. Envelopes sealed to an old key now go to the dead-letter topic.'], rewriteEnvFiles(d.dir));
  }
  const fresh = d.files.has('rotation-seal.json') ? '' : (await generateSealKeyPair()).privateKey;
  const staged = stage(d, 'seal', () => ({ fromId: 'seal', id: 'seal', secret: fresh })).secret;
  const current = secretOf(d, FILES.sealKey);
  if (current !== staged) {
    const previous = (d.files.get(FILES.sealPrevious) ?? '').split(',').map((k) => k.trim()).filter((k) => k && k !== current);
    replaceFile(d.dir, FILES.sealPrevious, `${[current, ...previous].join(',')}\n`);
    replaceFile(d.dir, FILES.sealKey, `${staged}\n`);
    replaceFile(d.dir, FILES.sealPub, `${sealPublicKeyOf(staged)}\n`);
  }
  unstage(d, 'seal');
  return report(
    [
      `seal public key (SPORBAR_SEAL_PUBLIC_KEY, give it to every producer): ${sealPublicKeyOf(staged)}`,
      `the old private key is in ${FILES.sealPrevious} (SPORBAR_SEAL_PREVIOUS_PRIVATE_KEYS_FILE of the ingest): envelopes sealed to it still open.`,
      'restart: the ingest first, then every producer, the gateway, the access API and the retention worker; once their spools are empty and the ingest has caught up, run this again with --finish.',
    ],
    rewriteEnvFiles(d.dir),
  );
}

async function rotateRouting(d: Dir): Promise<string> {
  replaceFile(d.dir, FILES.routingSecret, `${randomSecret()}\n`);
  return report(
    [
      'routing secret replaced (it only chooses Kafka partitions).',
      'restart every writer (producers, gateway, access API, retention): until all have, one subject\'s events may be on two partitions, so their order across writers is not kept for that moment (each writer\'s own order is).',
    ],
    rewriteEnvFiles(d.dir),
  );
}

async function rotateCheckpoint(d: Dir): Promise<string> {
  const old = checkpointPublicOf(d.files.get(FILES.checkpointKey)!);
  const retired = `checkpoint-${old.keyId}.pub.pem`;
  if (!d.files.has(retired)) createFile(d.dir, retired, old.pem);
  const pem = newCheckpointKeyPem();
  replaceFile(d.dir, FILES.checkpointKey, pem);
  const fresh = checkpointPublicOf(pem);
  replaceFile(d.dir, FILES.checkpointPub, fresh.pem);
  return report(
    [
      `checkpoint key ${old.keyId} → ${fresh.keyId}; the old public key stays in ${retired} (checkpoints signed before verify with it).`,
      `checkpoint public key (raw Ed25519, base64url, for witnesses): ${fresh.raw}`,
      `restart the log service; give witnesses and auditors the new public key; verify with --public-key ${FILES.checkpointPub} --previous-public-key ${retired}.`,
    ],
    rewriteEnvFiles(d.dir),
  );
}

async function rotateAccessToken(d: Dir): Promise<string> {
  const pem = newAccessTokenKeyPem();
  replaceFile(d.dir, FILES.accessTokenKey, pem);
  replaceFile(d.dir, FILES.accessTokenPub, accessTokenPublicOf(pem));
  return report(['access-token key pair replaced: restart the access API; tokens signed with the old key are refused from then on (issue new ones).'], rewriteEnvFiles(d.dir));
}

async function rotateKafka(d: Dir, o: RotateOptions): Promise<string> {
  const principals = JSON.parse(d.files.get(FILES.kafkaPrincipals) ?? '[]') as KafkaPrincipal[];
  const p = principals.find((x) => x.user === o.user);
  if (!p) throw refuse('kafka', [{ variable: '--user', problem: `must name a user of ${FILES.kafkaPrincipals}: ${principals.map((x) => x.user).join(', ')}` }]);
  const password = randomSecret();
  replaceFile(d.dir, FILES.kafkaPrincipals, `${JSON.stringify(principals.map((x) => (x.user === p.user ? { ...x, password } : x)), null, 2)}\n`);
  replaceFile(d.dir, kafkaPasswordFile(p.user), `${password}\n`);
  return report(
    [
      `${p.user}: new SCRAM password in ${kafkaPasswordFile(p.user)} and ${FILES.kafkaPrincipals}.`,
      `run: npx tsx infra/kafka/src/cli.ts provision ${d.dir}/${FILES.kafkaPrincipals} --name <broker> (replaces the credential), then restart the program that logs in as ${p.user}.`,
    ],
    rewriteEnvFiles(d.dir),
  );
}

/** Rotates one kind of key in the key directory `dir`; returns what to tell the operator. */
export async function rotate(kind: RotationKind, dir: string, o: RotateOptions): Promise<string> {
  const d = openDir(dir, kind);
  if (o.finish && !['producer', 'seal', 'master'].includes(kind)) throw refuse(kind, [{ variable: '--finish', problem: 'ends a producer, seal or master rotation only' }]);
  switch (kind) {
    case 'pseudonym':
      return rotatePseudonym(d);
    case 'master':
      return rotateMaster(d, o);
    case 'producer':
      return rotateProducer(d, o);
    case 'routing':
      return rotateRouting(d);
    case 'seal':
      return rotateSeal(d, o);
    case 'checkpoint':
      return rotateCheckpoint(d);
    case 'access-token':
      return rotateAccessToken(d);
    case 'kafka':
      return rotateKafka(d, o);
  }
}
