import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  configOrExit,
  configTableRows,
  envInteger,
  envList,
  envOneOf,
  envSecret,
  envString,
  loadConfig,
  logLevelEnv,
  readSecret,
  type ConfigProblem,
} from '../src/config.ts';
import { SporbarError } from '../src/errors.ts';
import { configRefusal as refusal } from './support/config-refusal.ts';

const KEY = Buffer.alloc(32, 7).toString('base64url');

const declaration = {
  ...logLevelEnv,
  BROKERS: envList({ default: '127.0.0.1:9092', meaning: 'brokers' }),
  PARTITIONS: envInteger({ default: 6, minimum: 1, meaning: 'partitions' }),
  MODE: envOneOf(['async', 'sync'], { default: 'async', meaning: 'mode' }),
  NAME: envString({ meaning: 'a name' }),
  URL: envString({ default: 'postgres://u:p@h/db', redact: true, pattern: '^postgres://', meaning: 'where' }),
  SEAL_KEY: envSecret({ required: true, bytes: 32, meaning: 'the seal key' }),
  TOKEN: envSecret({ bytes: { min: 32 }, meaning: 'a token' }),
};

const problemsOf = (err: SporbarError) => err.details['problems'] as ConfigProblem[];

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sporbar-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies the defaults and coerces the strings to the declared types', () => {
    const values = loadConfig('svc', declaration, { SEAL_KEY: KEY, PARTITIONS: '12', BROKERS: 'a:1, b:2' });
    expect(values).toEqual({ LOG_LEVEL: 'info', BROKERS: ['a:1', 'b:2'], PARTITIONS: 12, MODE: 'async', URL: 'postgres://u:p@h/db', SEAL_KEY: KEY });
    expect(values.NAME).toBeUndefined();
    expectTypeOf(values.PARTITIONS).toEqualTypeOf<number>();
    expectTypeOf(values.BROKERS).toEqualTypeOf<string[]>();
    expectTypeOf(values.MODE).toEqualTypeOf<'async' | 'sync'>();
    expectTypeOf(values.NAME).toEqualTypeOf<string | undefined>();
    expectTypeOf(values.SEAL_KEY).toEqualTypeOf<string>();
  });

  it('lists every problem at once, in declaration order, in one SPB_ERR_CONFIG', () => {
    const err = refusal(() => loadConfig('svc', declaration, { MODE: 'fast', PARTITIONS: 'six', LOG_LEVEL: 'loud', URL: 'mysql://x', TOKEN: 'c2hvcnQ' }));
    expect(problemsOf(err).map((p) => p.variable)).toEqual(['LOG_LEVEL', 'PARTITIONS', 'MODE', 'URL', 'SEAL_KEY', 'TOKEN']);
    expect(err.message).toMatch(/^svc cannot start: 6 configuration problems/);
    expect(err.message).toContain("PARTITIONS  must be an integer, got 'six'");
    expect(err.message).toContain("MODE        must be one of async, sync, got 'fast'");
    expect(err.message).toContain('SEAL_KEY    is required (or SEAL_KEY_FILE): the seal key');
    expect(err.message).toContain('TOKEN       must be at least 32 bytes (base64url), got 5 bytes');
    expect(err.message.split('\n')).toHaveLength(7);
  });

  it('never shows a secret or a redacted value', () => {
    const err = refusal(() => loadConfig('svc', declaration, { SEAL_KEY: 'a-secret-value', URL: 'mysql://user:hunter2@h' }));
    expect(err.message).not.toContain('a-secret-value');
    expect(err.message).not.toContain('hunter2');
    expect(problemsOf(err).map((p) => p.variable)).toEqual(['URL', 'SEAL_KEY']);
  });

  it('refuses a minimum and a too-large integer', () => {
    const d = { N: envInteger({ default: 1, minimum: 1, maximum: 10, meaning: 'n' }) };
    expect(problemsOf(refusal(() => loadConfig('svc', d, { N: '0' })))[0]!.problem).toBe("must be ≥ 1, got '0'");
    expect(problemsOf(refusal(() => loadConfig('svc', d, { N: '11' })))[0]!.problem).toBe("must be ≤ 10, got '11'");
    expect(problemsOf(refusal(() => loadConfig('svc', d, { N: '1.5' })))[0]!.problem).toBe("must be an integer, got '1.5'");
  });

  it('reads a secret from NAME_FILE (which wins), trimmed; a blank secret is unset; an unreadable file is a problem', () => {
    const file = join(dir, 'seal');
    writeFileSync(file, `${KEY}\n`);
    expect(loadConfig('svc', declaration, { SEAL_KEY_FILE: file, SEAL_KEY: 'ignored' }).SEAL_KEY).toBe(KEY);
    expect(problemsOf(refusal(() => loadConfig('svc', declaration, { SEAL_KEY: '   ' })))[0]!.problem).toMatch(/^is required/);
    const err = refusal(() => loadConfig('svc', declaration, { SEAL_KEY_FILE: join(dir, 'missing'), PARTITIONS: '0' }));
    expect(problemsOf(err)).toEqual([
      { variable: 'PARTITIONS', problem: "must be ≥ 1, got '0'" },
      { variable: 'SEAL_KEY', problem: `SEAL_KEY_FILE: cannot read '${join(dir, 'missing')}' (ENOENT)` },
    ]);
  });

  it("runs a variable's own check and records its SporbarError", () => {
    const d = {
      ID: envString({
        default: 'k1',
        meaning: 'id',
        check: (v) => {
          if (v === 'bad') throw new SporbarError('SPB_ERR_CONFIG', 'is the bad one');
        },
      }),
      N: envInteger({ default: 1, minimum: 1, meaning: 'n' }),
    };
    expect(problemsOf(refusal(() => loadConfig('svc', d, { ID: 'bad', N: '0' })))).toEqual([
      { variable: 'ID', problem: 'is the bad one' },
      { variable: 'N', problem: "must be ≥ 1, got '0'" },
    ]);
  });

  it('builds from valid values only, and collects the problems the build finds', () => {
    let built = 0;
    const build = (v: { readonly PARTITIONS: number }, problems: { add(variable: string, problem: string): void; check<T>(variable: string, fn: () => T): T }) => {
      built++;
      if (v.PARTITIONS > 100) problems.add('PARTITIONS', 'is more than the cluster has');
      problems.check('MODE', () => {
        throw new SporbarError('SPB_ERR_CONFIG', 'does not go with that');
      });
      return { partitions: v.PARTITIONS };
    };
    refusal(() => loadConfig('svc', declaration, {}, build));
    expect(built).toBe(0);
    const err = refusal(() => loadConfig('svc', declaration, { SEAL_KEY: KEY, PARTITIONS: '500' }, build));
    expect(built).toBe(1);
    expect(problemsOf(err)).toEqual([
      { variable: 'PARTITIONS', problem: 'is more than the cluster has' },
      { variable: 'MODE', problem: 'does not go with that' },
    ]);
  });

  it('lets other errors of a build through', () => {
    expect(() =>
      loadConfig('svc', declaration, { SEAL_KEY: KEY }, () => {
        throw new TypeError('a bug');
      }),
    ).toThrow(TypeError);
  });
});

describe('configOrExit', () => {
  it('prints the list without a stack trace and exits 1 on SPB_ERR_CONFIG', () => {
    const written: string[] = [];
    const exit = (code: number): never => {
      throw Object.assign(new Error('exit'), { exitCode: code });
    };
    let exitCode: number | undefined;
    try {
      configOrExit(() => loadConfig('svc', declaration, { PARTITIONS: 'x' }), { write: (t) => void written.push(t), exit });
    } catch (e) {
      exitCode = (e as { exitCode: number }).exitCode;
    }
    expect(exitCode).toBe(1);
    expect(written.join('')).toMatch(/^SPB_ERR_CONFIG: svc cannot start: 2 configuration problems/);
    expect(written.join('')).not.toMatch(/\n\s+at /);
  });

  it('returns the configuration, and throws other errors on', () => {
    const io = { write: () => undefined, exit: (): never => { throw new Error('no exit expected'); } };
    expect(configOrExit(() => 42, io)).toBe(42);
    expect(() => configOrExit(() => { throw new SporbarError('SPB_ERR_INTERNAL', 'x'); }, io)).toThrow('x');
  });
});

describe('configTableRows', () => {
  it('one row per variable; programs declaring it alike share the row, the others get their own', () => {
    const a = { LOG_LEVEL: logLevelEnv.LOG_LEVEL, PORT: envInteger({ default: 3000, meaning: 'where it listens' }), KEY: envSecret({ required: true, meaning: 'a key' }) };
    const b = { PORT: envInteger({ default: 3100, meaning: 'where it listens' }), LOG_LEVEL: logLevelEnv.LOG_LEVEL, TOPIC: envString({ defaultDoc: '`<topic>.dlq`', meaning: 'dlq' }) };
    expect(configTableRows([{ usedBy: 'a', declaration: a }, { usedBy: 'b', declaration: b }])).toEqual([
      '| variable | used by | default | meaning |',
      '| --- | --- | --- | --- |',
      '| `LOG_LEVEL` | a, b | `info` | pino log level |',
      '| `PORT` | a | `3000` | where it listens |',
      '| `PORT` | b | `3100` | where it listens |',
      '| `KEY[_FILE]` | a | — (required) | a key |',
      '| `TOPIC` | b | `<topic>.dlq` | dlq |',
    ]);
  });
});

describe('readSecret', () => {
  it('reads NAME, refuses a missing one', () => {
    expect(readSecret({ S: ' x ' }, 'S')).toBe('x');
    expect(() => readSecret({}, 'S')).toThrow('S (or S_FILE) must be set');
  });
});
