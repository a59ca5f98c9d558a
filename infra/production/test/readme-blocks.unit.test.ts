import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { productionBlocks, stepScript } from '../src/index.ts';

const doc = ['# x', '```bash production:setup', 'echo one', '```', 'text', '```bash', 'echo not mine', '```', '```bash production:setup', 'echo two', '```', '```bash production:stop', 'echo bye', '```'].join('\n');

describe('the README production blocks', () => {
  it('finds the tagged blocks in order with their lines, and only those', () => {
    const blocks = productionBlocks(doc);
    expect(blocks.map((b) => [b.step, b.line, b.code])).toEqual([
      ['setup', 2, 'echo one'],
      ['setup', 9, 'echo two'],
      ['stop', 12, 'echo bye'],
    ]);
    expect(stepScript(blocks, 'setup')).toBe('# README line 2\necho one\n# README line 9\necho two');
  });

  it('refuses an unclosed block and a missing step', () => {
    expect(() => productionBlocks('```bash production:setup\necho x\n')).toThrow(/line 1 is not closed/);
    expect(() => stepScript(productionBlocks(doc), 'audit')).toThrow(/no production:audit block/);
  });

  it("the repository README has the production steps the end-to-end test runs", () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect([...new Set(productionBlocks(readme).map((b) => b.step))]).toEqual(['setup', 'use', 'audit', 'stop']);
  });
});
