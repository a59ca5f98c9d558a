#!/usr/bin/env -S npx tsx
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { PGlite } from '@electric-sql/pglite';
import { fromPglite } from '@sporbar/projections';
import { checkBase64urlBytes, formatConfigError } from '@sporbar/common/config';
import { isSporbarError } from '@sporbar/common/errors';
import { isMainModule } from '@sporbar/common/main-module';
import { createCodec, formatDryRun, loadRegisterSource, REGISTER_DIR, registerFiles, type RegisterFiles } from '@sporbar/schemas';
import { readRegisterDir } from '@sporbar/schemas/register-yaml';
import { loadOrCreateCheckpointKey } from './checkpoint/checkpoint-event.ts';
import { loadVerifyingKey, verifyTreeHead } from './checkpoint/signed-tree-head.ts';
import { compareExport, formatCompare } from './compare.ts';
import { exportLog, exportReference, verifyExport, type Bound } from './export.ts';
import { createLogService } from './log-service.ts';
import { auditorConfigFromEnv, type AuditorEnvConfig } from './config.ts';
import { openDatabase, openLog, sameLocation, type OpenedDatabase, type StoreConfig } from './log/open.ts';
import { verifyInclusion } from './merkle/rfc9162.ts';
import { createProgress, rate } from './progress.ts';
import { diffReadModels, diffScope, formatDiff, liveCheckpoint, livePrefix, replay, REPLAY_PREFIX, type DiffScope, type ReplayPoint } from './replay.ts';
import { formatClassificationAudit } from './classification-check.ts';
import { registerDryRun } from './register-dry-run.ts';
import { DEFAULT_TAIL_GRACE, formatGrace, parseTailGrace, type TailGrace } from './tail.ts';
import { formatReport, verifyLog } from './verify.ts';
import { keyOnlyPolicy, verifyDownloadedFile } from './verify-proof.ts';
import { SUBJECT_MAP_MAX_AGE_SECONDS, SUBJECT_MAP_MAX_FUTURE_SECONDS } from './map/bundle.ts';
import { parsePolicy, type TlogPolicy } from './note/index.ts';
import { loadPolicyFile } from './policy-file.ts';
import { askWitnesses } from './witness-view.ts';
import { SUBJECT_MAP_KEY_MIN_BYTES, subjectMapKeys, type SubjectMapKeys } from './map/keys.ts';

/**
 * sporbar-audit: verify, replay, diff, export, compare and prove the Sporbar log.
 * Exit codes: 0 all good, 1 the log / export / read model disagrees, 2 bad usage or configuration.
 */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: NodeJS.WriteStream;
}

interface GlobalOptions {
  store: StoreConfig['store'];
  dataDir: string;
  databaseUrl?: string;
  schema: string;
  publicKey?: string;
  previousPublicKey?: string[];
  origin?: string;
  quiet?: boolean;
}

class ExitError extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
  }
}

const usage = (message: string) => new ExitError(2, message);

function parsePoint(text: string, what: string): { position: bigint } | { time: Date } {
  if (/^[0-9]+$/.test(text)) return { position: BigInt(text) };
  const t = Date.parse(text);
  if (!Number.isNaN(t) && /^\d{4}-\d{2}-\d{2}/.test(text)) return { time: new Date(t) };
  throw usage(`${what} must be a position (digits) or an ISO time, got '${text}'`);
}

function storeConfig(g: GlobalOptions): StoreConfig {
  return { store: g.store, dataDir: g.dataDir, ...(g.databaseUrl ? { databaseUrl: g.databaseUrl } : {}), schema: g.schema };
}

/** --public-key <file>, else SPORBAR_CHECKPOINT_PUBLIC_KEY[_FILE], else <data dir>/checkpoint-key.pub.pem. */
function publicKeyOf(g: GlobalOptions, env: AuditorEnvConfig): string {
  if (g.publicKey) return readFileSync(g.publicKey, 'utf8');
  if (env.checkpointPublicKey) return env.checkpointPublicKey;
  for (const candidate of [join(g.dataDir, 'checkpoint-key.pub.pem'), join(g.dataDir, '..', 'checkpoint-key.pub.pem')]) if (existsSync(candidate)) return readFileSync(candidate, 'utf8');
  throw usage('no checkpoint public key: pass --public-key <pem file> (GET /v1/log/key gives it)');
}

/** --subject-map-key <file> (base64url, like the other Sporbar secrets), else SPORBAR_SUBJECT_MAP_KEY[_FILE], else none. */
function subjectMapKeysOf(file: string | undefined, env: AuditorEnvConfig): SubjectMapKeys | undefined {
  let value = env.subjectMapKey;
  if (file !== undefined) {
    try {
      value = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw usage(`--subject-map-key: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    try {
      checkBase64urlBytes(value, { min: SUBJECT_MAP_KEY_MIN_BYTES });
    } catch (err) {
      throw usage(`--subject-map-key ${file}: ${(err as Error).message}`);
    }
  }
  return value === undefined ? undefined : subjectMapKeys(Buffer.from(value, 'base64url'));
}

export async function runCli(argv: readonly string[], io: CliIo = { out: (t) => process.stdout.write(t), err: process.stderr }): Promise<number> {
  let env: AuditorEnvConfig;
  try {
    env = auditorConfigFromEnv(process.env);
  } catch (err) {
    if (!isSporbarError(err, 'SPB_ERR_CONFIG')) throw err;
    io.err.write(formatConfigError(err));
    return 2;
  }
  const program = new Command('sporbar-audit')
    .description('Audit the Sporbar log: verify checkpoints, replay read models, diff, export, prove inclusion.')
    .addOption(new Option('--store <kind>', 'event store').choices(['pglite', 'postgres']).default(env.store))
    .option('--data-dir <dir>', 'PGlite data directory (the embedded ./data or its pglite/ folder)', env.dataDir)
    .option('--database-url <url>', 'PostgreSQL connection string', env.databaseUrl)
    .option('--schema <name>', 'event-store schema', 'sporbar')
    .option('--public-key <pem file>', 'checkpoint public key (SPKI PEM)')
    .option('--previous-public-key <pem file...>', 'checkpoint keys rotated out (checkpoint-<keyId>.pub.pem): checkpoints naming their key id verify with them')
    .option('--origin <origin>', "the log's origin line, e.g. sporbar.v1/dk-digst (default: from the checkpoints)")
    .option('-q, --quiet', 'no progress on stderr')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err.write(s) });
  const g = () => program.opts<GlobalOptions>();
  const codec = createCodec({ maxBytes: 1024 * 1024 });
  let code = 0;
  const progress = () => createProgress({ quiet: g().quiet === true, stream: io.err });

  program
    .command('verify')
    .description('recompute the Merkle tree over the whole log and check every signed checkpoint (or check an export with --file)')
    .option('--file <export>', 'verify an export offline instead of the store')
    .option('--checkpoint <file...>', 'checkpoint notes kept outside the store (catches a truncated tail)')
    .option('--json', 'print the report as JSON')
    .option('--tail-grace <duration,count>', `how long (90s, 5m, 2h) and/or how many (10000events) events may wait for a checkpoint before verify fails (default ${formatGrace(DEFAULT_TAIL_GRACE)})`)
    .option('--allow-uncovered-tail', 'development logs only: a log without checkpoints, or an old uncovered tail, is a warning instead of a failure')
    .option('--reference <export>', 'an earlier export (checked first, as verify --file does): names the exact leaf of an edit the signed roots only bound to a range')
    .option('--policy <file>', "a C2SP tlog-policy (GET /v1/log/policy): ask each of its witnesses with a URL for its latest cosigned checkpoint; each must match the log's tree (else FORK), and those that match must meet the quorum")
    .option('--subject-map-key <file>', 'the subject map key (base64url, ≥ 32 bytes; default SPORBAR_SUBJECT_MAP_KEY): recompute the subject map from the log and check every committed root')
    .action(async (o: { file?: string; checkpoint?: string[]; json?: boolean; tailGrace?: string; allowUncoveredTail?: boolean; reference?: string; policy?: string; subjectMapKey?: string }) => {
      let tailGrace: TailGrace = DEFAULT_TAIL_GRACE;
      if (o.tailGrace !== undefined) {
        try {
          tailGrace = parseTailGrace(o.tailGrace);
        } catch (err) {
          throw usage((err as Error).message);
        }
      }
      if (o.file && o.policy) throw usage('--policy checks the store, not an export (--file)');
      if (o.file && o.subjectMapKey) throw usage('--subject-map-key checks the store, not an export (--file)');
      const mapKeys = o.file ? undefined : subjectMapKeysOf(o.subjectMapKey, env);
      const key = loadVerifyingKey(publicKeyOf(g(), env));
      if (o.file) {
        const r = await verifyExport(o.file, key, g().origin ? { origin: g().origin! } : {});
        io.out(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${r.ok ? 'OK' : 'FAILED'}: ${r.events} exported event(s) checked against the signed checkpoint of tree size ${r.treeSize ?? '?'}${r.problems.map((p) => `\n  ${p}`).join('')}\n`);
        code = r.ok ? 0 : 1;
        return;
      }
      let witnessed: Parameters<typeof verifyLog>[0]['witnessed'];
      if (o.policy) {
        let loaded;
        try {
          loaded = loadPolicyFile(o.policy, g().origin ? { origin: g().origin! } : {});
        } catch (err) {
          throw usage((err as Error).message);
        }
        const origin = g().origin ?? (loaded.policy.logs.length === 1 ? loaded.policy.logs[0]!.origin : undefined);
        if (!origin) throw usage('the policy lists several logs: pass --origin');
        witnessed = { policy: loaded.policy, answers: await askWitnesses(loaded.policy, origin) };
      }
      const reference = o.reference ? await exportReference(o.reference, key, g().origin ? { origin: g().origin! } : {}) : undefined;
      const log = await openLog(storeConfig(g()));
      try {
        const p = progress();
        const started = Date.now();
        const report = await verifyLog({
          source: log.source,
          codec,
          publicKey: key,
          previousPublicKeys: (g().previousPublicKey ?? []).map((f) => readFileSync(f, 'utf8')),
          ...(g().origin ? { origin: g().origin! } : {}),
          knownCheckpoints: (o.checkpoint ?? []).map((f) => readFileSync(f, 'utf8')),
          tailGrace,
          allowUncoveredTail: o.allowUncoveredTail === true,
          ...(reference ? { reference } : {}),
          ...(witnessed ? { witnessed } : {}),
          ...(mapKeys ? { subjectMapKeys: mapKeys } : {}),
          onProgress: (n, pos) => p.update(`verify: ${rate(n, started)}, position ${pos}`),
        });
        p.done();
        io.out(o.json ? `${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n` : `${formatReport(report)}\n`);
        code = report.ok ? 0 : 1;
      } finally {
        await log.close();
      }
    });

  program
    .command('replay')
    .description('rebuild every read model as it was at a time or position, into a scratch database')
    .requiredOption('--at <time|position>', 'ISO time or global position')
    .requiredOption('--into <dir|url>', 'scratch PGlite directory or PostgreSQL URL (its rm_* tables are rebuilt)')
    .option('--register <dir>', 'the register directory the log was classified by (default: the packaged register); every disclosure is judged again by the notice version in force when it happened')
    .action(async (o: { at: string; into: string; register?: string }) => {
      const registerFiles = await loadRegisterSource('sporbar-audit replay', o.register).catch((err: unknown) => {
        throw usage(`--register: ${(err as Error).message}`);
      });
      const at = parsePoint(o.at, '--at');
      const log = await openLog(storeConfig(g()));
      if (sameLocation(o.into, log.database.location)) {
        await log.close();
        throw usage('--into is the live database: give a scratch one');
      }
      const target = await openDatabase(o.into, { create: true });
      try {
        const p = progress();
        const started = Date.now();
        const r = await replay({ source: log.source, codec, into: target.db, at, register: registerFiles, onProgress: (n, pos) => p.update(`replay: ${rate(n, started)}, position ${pos}`) });
        p.done();
        io.out(`replayed ${r.events} event(s) up to position ${r.position} into ${target.location} in ${r.seconds.toFixed(2)} s\n`);
        // Exit 1 when a stored classification does not follow from the register of its time, or names an unpublished version.
        io.out(`${formatClassificationAudit(r.classification)}\n`);
        code = r.classification.findings.length === 0 ? 0 : 1;
      } finally {
        await target.close();
        await log.close();
      }
    });

  program
    .command('diff')
    .description('compare the read models replayed from the log with the live read model, row by row')
    .requiredOption('--against <dir|url>', 'the live read-model database (the embedded data dir, or a PostgreSQL URL)')
    .option('--replayed <dir|url>', 'a database filled by `replay` (default: replay now, in memory, up to the live checkpoint)')
    .option('--at <time|position>', 'replay up to this point and compare only what the log held then (default: the live read model checkpoint)')
    .option('--max <n>', 'list at most n differences', '1000')
    .action(async (o: { against: string; replayed?: string; at?: string; max: string }) => {
      const log = await openLog(storeConfig(g()));
      const opened: OpenedDatabase[] = [];
      try {
        const live = sameLocation(o.against, log.database.location) ? log.database : (opened[opened.length] = await openDatabase(o.against));
        const liveAt = await liveCheckpoint(live.db, await livePrefix(live.db));
        let replayedDb;
        let scope: DiffScope | undefined;
        if (o.replayed) {
          replayedDb = (opened[opened.length] = await openDatabase(o.replayed)).db;
          const replayedAt = await liveCheckpoint(replayedDb, REPLAY_PREFIX);
          if (replayedAt !== undefined) scope = await diffScope(log.source, { replayedAt, liveAt, label: `the replayed point (position ${replayedAt})` });
        } else {
          const checkpoint = liveAt;
          const at: ReplayPoint = o.at ? parsePoint(o.at, '--at') : checkpoint !== undefined ? { position: checkpoint } : { head: true };
          const pglite = await PGlite.create();
          opened.push({ location: 'memory', db: fromPglite(pglite), pglite, close: () => pglite.close() });
          replayedDb = opened.at(-1)!.db;
          const p = progress();
          const started = Date.now();
          const r = await replay({ source: log.source, codec, into: replayedDb, at, onProgress: (n) => p.update(`replay: ${rate(n, started)}`) });
          p.done(g().quiet ? undefined : `replayed ${r.events} event(s) up to position ${r.position} (the live read model's checkpoint: ${checkpoint ?? 'none'})`);
          scope = await diffScope(log.source, { replayedAt: r.position, liveAt, label: o.at ? `T = ${o.at} (position ${r.position})` : `the live checkpoint (position ${r.position})` });
        }
        const d = await diffReadModels({ replayed: replayedDb, live: live.db, maxDifferences: Number(o.max), ...(scope ? { scope } : {}) });
        io.out(`${formatDiff(d)}\n`);
        code = d.differences.length === 0 ? 0 : 1;
      } finally {
        for (const db of opened.reverse()) await db.close();
        await log.close();
      }
    });

  program
    .command('export')
    .description('export events with inclusion proofs against the newest signed checkpoint')
    .option('--from <time|position>', 'first event (inclusive)')
    .option('--to <time|position>', 'last event (inclusive)')
    .addOption(new Option('--format <format>', 'file format').choices(['avro', 'ndjson']).default('avro'))
    .requiredOption('--out <file>', 'output file (avro: the proofs go to <file>.proofs.ndjson)')
    .action(async (o: { from?: string; to?: string; format: 'avro' | 'ndjson'; out: string }) => {
      const log = await openLog(storeConfig(g()));
      try {
        const p = progress();
        const started = Date.now();
        let publicKey;
        try {
          publicKey = loadVerifyingKey(publicKeyOf(g(), env));
        } catch {
          publicKey = undefined; // exporting without a key: the checkpoint is not pre-checked; verify --file checks it
        }
        const r = await exportLog({
          source: log.source,
          codec,
          format: o.format,
          out: o.out,
          ...(o.from ? { from: parsePoint(o.from, '--from') as Bound } : {}),
          ...(o.to ? { to: parsePoint(o.to, '--to') as Bound } : {}),
          ...(publicKey ? { publicKey } : {}),
          ...(g().origin ? { origin: g().origin! } : {}),
          onProgress: (n, e) => p.update(`export: ${rate(n, started)} read, ${e.toLocaleString('en-US')} exported`),
        });
        p.done();
        io.out(`exported ${r.events} event(s) with inclusion proofs against tree size ${r.treeSize} to ${r.files.join(', ')} in ${r.seconds.toFixed(2)} s\n`);
        if (r.uncovered) io.err.write('note: events after the checkpoint are in the requested range but not covered yet; export again after the next checkpoint\n');
      } finally {
        await log.close();
      }
    });

  program
    .command('compare')
    .description('compare an export with the store, leaf by leaf, and name the first differing position (exit 0 same, 1 differs)')
    .argument('<export>', 'an export file (avro or ndjson) written by `export`')
    .action(async (path: string) => {
      if (!existsSync(path)) throw usage(`no export at ${path}`);
      let trust: string;
      try {
        const v = await verifyExport(path, loadVerifyingKey(publicKeyOf(g(), env)), g().origin ? { origin: g().origin! } : {});
        trust = v.ok
          ? `the export verifies against the signed checkpoint of tree size ${v.treeSize}`
          : `the export itself does NOT verify (${v.problems.join('; ')}): where it differs from the store, either may be the altered one`;
      } catch (err) {
        if (err instanceof ExitError) trust = 'the export was not checked: no checkpoint public key (pass --public-key)';
        else throw err;
      }
      const log = await openLog(storeConfig(g()));
      try {
        const r = await compareExport({ source: log.source, path });
        io.out(`${formatCompare(r, path)}\n  ${trust}\n`);
        code = r.same ? 0 : 1;
      } finally {
        await log.close();
      }
    });

  program
    .command('proof')
    .description("print an event's inclusion proof and check it against a signed checkpoint")
    .requiredOption('--event <id>', 'eventId')
    .option('--checkpoint-size <n>', 'tree size of the checkpoint (default: the newest)')
    .action(async (o: { event: string; checkpointSize?: string }) => {
      const key = loadVerifyingKey(publicKeyOf(g(), env));
      const log = await openLog(storeConfig(g()));
      const origin = g().origin ?? (await log.source.checkpointCandidates()).find((c) => c.origin)?.origin;
      if (!origin) {
        await log.close();
        throw usage('the log has no checkpoint naming its origin: pass --origin');
      }
      const service = createLogService({ store: log.store, codec, publicKey: key, origin });
      try {
        await service.start();
        await service.stop();
        const size = o.checkpointSize !== undefined ? Number(o.checkpointSize) : undefined;
        const proof = await service.inclusionProof(o.event, size);
        if (!proof.checkpoint) throw new ExitError(1, `no verified checkpoint of tree size ${proof.treeSize} in the log`);
        const cp = verifyTreeHead(proof.checkpoint, key, { origin });
        const ok =
          cp.ok &&
          cp.treeHead.treeSize === proof.treeSize &&
          verifyInclusion(proof.leafIndex, proof.treeSize, Buffer.from(proof.leafHash, 'base64'), proof.proof.map((h) => Buffer.from(h, 'base64')), cp.treeHead.rootHash);
        io.out(`${JSON.stringify({ ...proof, verified: ok }, null, 2)}\n`);
        code = ok ? 0 : 1;
      } finally {
        await log.close();
      }
    });

  program
    .command('verify-proof')
    .description("check a downloaded proof offline and say what it proves: a C2SP .tlog-proof (the log's signature, the witnesses' quorum, the inclusion, the event), a subject map proof or a report.json copy (all the disclosures about you up to a tree size, none missing, none added)")
    .argument('<file>', 'a .tlog-proof file (GET /v1/me/disclosures/:eventId/proof), a subject map proof (GET /v1/me/subject-map) or a report copy (GET /v1/me/report.json)')
    .option('--policy <file>', "a C2SP tlog-policy: the log's key, the witnesses' keys and the quorum (GET /v1/log/policy)")
    .option('--key <vkey or file>', "for a log without witnesses: its verifier key (GET /v1/log/key's verifierKey), or a file holding it")
    .option('--max-map-age <seconds>', `for a subject map proof: refuse a map committed longer ago than this, or more than ${SUBJECT_MAP_MAX_FUTURE_SECONDS / 60} minutes ahead of this clock (an old map could hide newer disclosures; the log commits one at least every 6 h); 0: do not check`, String(SUBJECT_MAP_MAX_AGE_SECONDS))
    .action(async (file: string, o: { policy?: string; key?: string; maxMapAge: string }) => {
      if ((o.policy === undefined) === (o.key === undefined)) throw usage('give --policy <file> or --key <verifier key>, one of them');
      if (!/^(0|[1-9][0-9]{0,9})$/.test(o.maxMapAge)) throw usage(`--max-map-age must be a whole number of seconds (0: no check), got '${o.maxMapAge}'`);
      const maxAgeSeconds = Number(o.maxMapAge);
      const read = (path: string, what: string): string => {
        try {
          return readFileSync(path, 'utf8');
        } catch (err) {
          throw usage(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      };
      let policy: TlogPolicy;
      try {
        policy = o.policy !== undefined ? parsePolicy(read(o.policy, 'the policy')) : keyOnlyPolicy(existsSync(o.key!) ? read(o.key!, 'the key') : o.key!);
      } catch (err) {
        if (err instanceof ExitError) throw err;
        throw usage(`${o.policy !== undefined ? 'the policy' : 'the key'}: ${(err as Error).message}`);
      }
      const origin = g().origin;
      const verdict = verifyDownloadedFile(read(file, 'the proof'), policy, codec, { maxAgeSeconds, ...(origin === undefined ? {} : { origin }) });
      io.out(verdict.text);
      code = verdict.ok ? 0 : 1;
    });

  program
    .command('register-dry-run')
    .description('which recorded disclosures a candidate register directory would classify differently, before it is published (each against the version in force when it occurred)')
    .requiredOption('--register <dir>', 'the candidate register directory (shared.yaml, <notice>/<version>.yaml)')
    .option('--current <dir>', 'the register to compare with (default: the published register of @sporbar/schemas)')
    .option('--json', 'print the report as JSON')
    .option('--max <n>', 'list at most n of the disclosures that change (all are counted)', '100')
    .option('--exit-code', 'exit 1 when any disclosure would be classified differently')
    .action(async (o: { register: string; current?: string; json?: boolean; max: string; exitCode?: boolean }) => {
      if (!/^[0-9]+$/.test(o.max)) throw usage(`--max must be a number, got '${o.max}'`);
      const load = (dir: string, what: string): RegisterFiles => {
        if (!existsSync(dir)) throw usage(`${what} ${dir}: no such directory`);
        try {
          return readRegisterDir(resolve(dir));
        } catch (err) {
          if (!isSporbarError(err)) throw err;
          throw usage(`${what} ${dir} does not load (sporbar-register validate ${dir} lists every problem): ${err.message}`);
        }
      };
      const candidate = load(o.register, 'the candidate register');
      const current = o.current === undefined ? registerFiles : load(o.current, 'the current register');
      const log = await openLog(storeConfig(g()));
      try {
        const p = progress();
        const started = Date.now();
        const r = await registerDryRun({ source: log.source, codec, current, candidate, maxListed: Number(o.max), onProgress: (n, pos) => p.update(`register-dry-run: ${rate(n, started)}, position ${pos}`) });
        p.done();
        const names = { current: o.current ?? REGISTER_DIR, candidate: o.register };
        io.out(o.json ? `${JSON.stringify({ ...names, ...r }, null, 2)}\n` : `${formatDryRun(r, names).join('\n')}\n`);
        code = o.exitCode === true && r.changed > 0 ? 1 : 0;
      } finally {
        await log.close();
      }
    });

  program
    .command('keygen')
    .description('create (or show) the checkpoint signing key of a data directory: checkpoint-key.json + checkpoint-key.pub.pem')
    .requiredOption('--out <dir>', 'directory')
    .action(async (o: { out: string }) => {
      const key = loadOrCreateCheckpointKey(resolve(o.out));
      io.out(`key ${key.keyId}: ${join(resolve(o.out), 'checkpoint-key.json')} (secret), ${join(resolve(o.out), 'checkpoint-key.pub.pem')} (public)\n`);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ExitError) {
      io.err.write(`sporbar-audit: ${err.message}\n`);
      return err.exitCode;
    }
    if (isSporbarError(err)) {
      io.err.write(`sporbar-audit: ${err.code}: ${err.message}\n`);
      return err.code === 'SPB_ERR_CONFIG' || err.code === 'SPB_ERR_BAD_REQUEST' ? 2 : 1;
    }
    io.err.write(`sporbar-audit: ${(err as Error).stack ?? String(err)}\n`);
    return 2;
  }
}

// Only when run as a program (tsx src/cli.ts …, or the installed `sporbar-audit` link), not when imported by tests.
if (isMainModule(import.meta.url)) {
  runCli(process.argv.slice(2)).then((c) => process.exit(c));
}
