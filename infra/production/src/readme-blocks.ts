/**
 * The README's production section is a script: its fenced blocks tagged ```` ```bash production:<step> ````
 * are what an operator types, in order. This finds them (pure, no I/O) so a test can run exactly them.
 */
export interface ScriptBlock {
  /** The tag after `production:` (`setup`, `use`, `audit`, `stop`). */
  readonly step: string;
  /** 1-based line of the opening fence in the document. */
  readonly line: number;
  readonly code: string;
}

const OPEN = /^```bash\s+production:([a-z][a-z0-9-]*)\s*$/;
const FENCE = /^```/;

/** Every `production:` block of a Markdown document, in document order. Throws on an unclosed block. */
export function productionBlocks(markdown: string): ScriptBlock[] {
  const lines = markdown.split('\n');
  const blocks: ScriptBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !FENCE.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`the production:${open[1]} block at line ${start + 1} is not closed`);
    blocks.push({ step: open[1]!, line: start + 1, code: body.join('\n') });
  }
  return blocks;
}

/** The blocks of one step, joined in order (what the operator runs for that step). */
export function stepScript(blocks: readonly ScriptBlock[], step: string): string {
  const mine = blocks.filter((b) => b.step === step);
  if (mine.length === 0) throw new Error(`the README has no production:${step} block`);
  return mine.map((b) => `# README line ${b.line}\n${b.code}`).join('\n');
}
