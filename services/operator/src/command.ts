/**
 * sporbar: the operator's command line.
 *   sporbar keys init <dir> [--producers <template.json>] [--register-dir <dir>]
 *   sporbar keys rotate <kind> --keys <dir> [...]
 *   sporbar token issue --keys <dir> --role <role> [--cpr …] [--sub …] [--ttl 15m]
 * Exit codes: 0 done, 1 failed, 2 bad usage or configuration (SPB_ERR_CONFIG, every problem listed).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { configError, formatConfigError } from '@sporbar/common/config';
import { isSporbarError } from '@sporbar/common/errors';
import { FILES } from './deployment.ts';
import { formatInit, keysInit } from './init.ts';
import { ROTATION_KINDS, rotate, type RotationKind } from './rotate.ts';
import { DEFAULT_MAX_LIFETIME_SECONDS, signToken, tokenClaims } from './token.ts';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

function program(io: CliIo): Command {
  const root = new Command('sporbar')
    .description("Sporbar's operator commands: a deployment's secrets and interim access tokens")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const keys = root.command('keys').description("a deployment's secrets").exitOverride();
  keys
    .command('init <dir>')
    .description('create every key, credential and env file of a deployment in <dir> (0700, files 0600); never overwrites one')
    .option('--producers <template.json>', 'producer template (registry entries without keys); default: the development registry\'s producers')
    .option('--register-dir <dir>', "the register directory the deployment runs with (its programs' SPORBAR_REGISTER_DIR): the template's activity ids are checked against it; default: the packaged register")
    .exitOverride()
    .action(async (dir: string, o: { producers?: string; registerDir?: string }) => {
      io.out(formatInit(await keysInit(dir, { ...(o.producers ? { producers: o.producers } : {}), ...(o.registerDir ? { registerDir: o.registerDir } : {}) })));
    });
  keys
    .command('rotate <kind>')
    .description(`rotate one key: ${ROTATION_KINDS.join(', ')} (see the README, "Keys: provisioning and rotation")`)
    .requiredOption('--keys <dir>', 'the key directory made by keys init')
    .option('--producer <id>', 'producer: which producer')
    .option('--user <name>', 'kafka: which Kafka user')
    .option('--finish', 'producer, pseudonym, seal: end the rotation (drop the old key)')
    .exitOverride()
    .action(async (kind: string, o: { keys: string; producer?: string; user?: string; finish?: boolean }) => {
      if (!(ROTATION_KINDS as readonly string[]).includes(kind)) throw configError('sporbar keys rotate', [{ variable: '<kind>', problem: `must be one of ${ROTATION_KINDS.join(', ')}` }]);
      io.out(await rotate(kind as RotationKind, resolve(o.keys), { ...o, env: io.env }));
    });
  const token = root.command('token').description('interim access tokens for the access API (until OIDC sign-in)').exitOverride();
  token
    .command('issue')
    .description('print an ES256 access token signed with <keys>/access-token.key')
    .requiredOption('--keys <dir>', 'the key directory made by keys init')
    .requiredOption('--role <role>', 'citizen, caseworker, dpo or auditor')
    .option('--cpr <cpr>', "a citizen's CPR number")
    .option('--sub <sub>', 'who: an employee id (required but for citizens); never a CPR number')
    .option('--ttl <duration>', 'lifetime: 900, 900s, 15m, 1h', '15m')
    .option('--max-lifetime <seconds>', "the access API's TOKEN_MAX_LIFETIME_SECONDS", String(DEFAULT_MAX_LIFETIME_SECONDS))
    .exitOverride()
    .action((o: { keys: string; role: string; cpr?: string; sub?: string; ttl: string; maxLifetime: string }) => {
      const result = tokenClaims({ role: o.role, cpr: o.cpr, sub: o.sub, ttl: o.ttl, maxLifetimeSeconds: Number(o.maxLifetime) || DEFAULT_MAX_LIFETIME_SECONDS }, Math.floor(Date.now() / 1000));
      if ('problems' in result) throw configError('sporbar token issue', result.problems);
      let key: string;
      try {
        key = readFileSync(join(resolve(o.keys), FILES.accessTokenKey), 'utf8');
      } catch (err) {
        throw configError('sporbar token issue', [{ variable: '--keys', problem: `cannot read ${FILES.accessTokenKey} (${(err as NodeJS.ErrnoException).code ?? 'error'}): run sporbar keys init first` }]);
      }
      io.out(`${signToken(key, result.claims)}\n`);
    });
  return root;
}

/** Runs the command line; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await program(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (isSporbarError(err, 'SPB_ERR_CONFIG')) {
      io.err(formatConfigError(err));
      return 2;
    }
    io.err(`sporbar: ${isSporbarError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`);
    return 1;
  }
}
