import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCodec } from '@sporbar/schemas';
import { verifyTreeHead } from '../src/checkpoint/signed-tree-head.ts';
import { leafHash } from '../src/merkle/rfc9162.ts';
import { RFC8032_TEST1_PUBLIC_HEX, workedExample } from './support/worked-example.ts';

const doc = readFileSync(new URL('../../../docs/auditing.md', import.meta.url), 'utf8');
const section = (() => {
  const start = doc.indexOf('### A worked example');
  const end = doc.indexOf('\n## ', start);
  if (start < 0 || end < 0) throw new Error('docs/auditing.md has no "### A worked example" section');
  return doc.slice(start, end);
})();
/** The `name: value` lines of the section's first text block, as the document prints them. */
const printed = (): Record<string, string> => {
  const block = /```text\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return Object.fromEntries(block.trimEnd().split('\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
};
const blocks = (lang: string): string[] => [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

describe('the worked example of docs/auditing.md', () => {
  const example = workedExample();

  it('prints exactly the values the code computes', () => {
    expect(printed()).toEqual(example);
  });

  it('is a real log: the leaves decode, the fingerprint is their bytes 2..9, the checkpoint verifies with the RFC 8032 key', () => {
    const codec = createCodec();
    for (const n of [0, 1, 2]) {
      const bytes = Buffer.from(example[`leaf ${n} bytes`]!, 'hex');
      expect(codec.decode(bytes)).toMatchObject({ eventType: 'DisclosureRecorded', writerVersion: 2 });
      expect(bytes.subarray(2, 10).toString('hex')).toBe(example['fingerprint']);
      expect(leafHash(bytes).toString('hex')).toBe(example[`leaf hash ${n}`]);
    }
    expect(example['fingerprint']).toBe(codec.fingerprintHex('DisclosureRecorded'));
    const checkpoint = blocks('text')[1]!;
    expect(checkpoint).toBe(`${example['origin']}\n3\n${example['root base64']}\n\n${example['signature line']}\n`);
    expect(Buffer.from(example['checkpoint body hex']!, 'hex').toString('utf8')).toBe(checkpoint.slice(0, checkpoint.indexOf('\n\n') + 1));
    const publicKey = Buffer.from(RFC8032_TEST1_PUBLIC_HEX, 'hex').toString('base64url');
    expect(verifyTreeHead(checkpoint, publicKey)).toMatchObject({ ok: true });
    expect(verifyTreeHead(checkpoint.replace('\n3\n', '\n4\n'), publicKey)).toMatchObject({ ok: false });
  });

  it('its shell commands print the same root, key hash and a verified signature', () => {
    const [script] = blocks('sh');
    expect(script).toContain(example['leaf 0 bytes']);
    let out: string;
    try {
      out = execFileSync('bash', ['-euc', `d=$(mktemp -d); trap 'rm -rf "$d"' EXIT; cd "$d"\n${script!}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const missing = (e as { stderr?: string }).stderr ?? '';
      // Without xxd or OpenSSL 3 on this machine there is nothing to run; the values are still checked above.
      if (/command not found|pkeyutl: Unknown option|rawin/.test(missing)) return;
      throw e;
    }
    expect(out.split('\n').filter(Boolean)).toEqual([example['root'], example['key hash'], example['key hash'], 'Signature Verified Successfully']);
  });
});
