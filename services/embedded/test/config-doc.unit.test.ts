import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// Here because the embedded package is the one that depends on every program whose declaration the table shows.
import { README, withConfigTable } from '../../../tools/config-doc.ts';

describe("the README's configuration table", () => {
  it('is the one the declarations give (else run `npx tsx tools/gen-config-doc.ts`)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme, 'README.md is out of date with the config declarations: run `npx tsx tools/gen-config-doc.ts`').toBe(withConfigTable(readme));
  });
});
