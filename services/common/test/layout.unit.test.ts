import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript, shared with eslint.config.js
import { allowedImports } from '../../../tools/import-rules.js';

/** The layout's import rules (tools/import-rules.js) as `npm run lint` applies them, on made-up sources. */
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const eslint = new ESLint({ cwd: repo });
const problems = async (filePath: string, code: string): Promise<string[]> => {
  const [result] = await eslint.lintText(code, { filePath: `${repo}${filePath}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
};

describe('import rules', { timeout: 60_000 }, () => {
  it('refuse an import against the flow', async () => {
    expect(await problems('services/ingest/src/x.ts', "import { a } from '@sporbar/projections';\nexport const b = a;\n")).toEqual([
      expect.stringContaining('services/ingest may import only'),
    ]);
    expect(await problems('services/producer-sdk/src/x.ts', "import { a } from '@sporbar/event-store';\nexport const b = a;\n")).toHaveLength(1);
    expect(await problems('services/event-store/src/x.ts', "import { a } from '@sporbar/schemas';\nexport const b = a;\n")).toHaveLength(1);
    expect(await problems('projections/src/x.ts', "import { a } from '@sporbar/access-api/sub';\nexport const b = a;\n")).toHaveLength(1);
  });

  it('refuse I/O libraries in common and schemas, and relative imports into another package', async () => {
    for (const lib of ['pg', 'kafkajs', 'fastify', 'pino', '@electric-sql/pglite', 'node:http']) {
      expect(await problems('schemas/src/x.ts', `import a from '${lib}';\nexport const b = a;\n`)).toEqual([expect.stringContaining('holds no I/O')]);
      expect(await problems('services/common/src/x.ts', `import a from '${lib}';\nexport const b = a;\n`)).toHaveLength(1);
    }
    expect(await problems('services/ingest/src/x.ts', "import { a } from '../../../schemas/src/index.ts';\nexport const b = a;\n")).toEqual([
      expect.stringContaining('by its name'),
    ]);
  });

  it('allow the imports the layout allows, and anything in tests', async () => {
    expect(await problems('services/ingest/src/x.ts', "import { a } from '@sporbar/event-store';\nimport { c } from '@sporbar/common/retry';\nexport const b = [a, c];\n")).toEqual([]);
    expect(await problems('services/access-api/src/x.ts', "import { a } from '@sporbar/projections';\nexport const b = a;\n")).toEqual([]);
    expect(await problems('schemas/src/x.ts', "import { a } from '@sporbar/common/errors';\nexport const b = a;\n")).toEqual([]);
    expect(await problems('services/ingest/test/x.int.test.ts', "import { a } from '@sporbar/access-api';\nexport const b = a;\n")).toEqual([]);
  });
});

describe('test files', () => {
  it('carry their tier in their name: *.unit.test.ts, *.int.test.ts or *.e2e.test.ts', () => {
    const testFiles: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(`${repo}${dir}`, { withFileTypes: true })) {
        if (e.name === 'node_modules' || e.name === 'data' || e.name.startsWith('.')) continue;
        if (e.isDirectory()) walk(`${dir}${e.name}/`);
        else if (/\.test\.[cm]?[jt]sx?$/.test(e.name)) testFiles.push(`${dir}${e.name}`);
      }
    };
    walk('');
    expect(testFiles.length).toBeGreaterThan(50);
    expect(testFiles.filter((f) => !/\.(unit|int|e2e)\.test\.ts$/.test(f))).toEqual([]);
  });
});

describe("the README's layout table", () => {
  it('names every workspace package with its folder, and nothing else', () => {
    const root = JSON.parse(readFileSync(`${repo}package.json`, 'utf8')) as { workspaces: string[] };
    const packages = root.workspaces
      .flatMap((w) => (w.endsWith('/*') ? readdirSync(`${repo}${w.slice(0, -2)}`).map((d) => `${w.slice(0, -2)}/${d}`) : [w]))
      .filter((folder) => existsSync(`${repo}${folder}/package.json`))
      .map((folder) => `${folder}/ ${(JSON.parse(readFileSync(`${repo}${folder}/package.json`, 'utf8')) as { name: string }).name}`);
    const readme = readFileSync(`${repo}README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 3));
    const rows = [...section.matchAll(/^\| `([^`]+)` \| `(@sporbar\/[a-z-]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows.sort()).toEqual(packages.sort());
  });

  it('every package has a README that says what it may import', () => {
    const folders = Object.keys(allowedImports);
    for (const folder of folders) {
      const path = `${repo}${folder}/README.md`;
      expect(existsSync(path), `${folder}/README.md`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${folder}/README.md`).toMatch(/## (What it may import|Imports)/);
    }
  });
});
