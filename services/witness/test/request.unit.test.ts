import { describe, expect, it } from 'vitest';
import { CheckpointError, formatCheckpointText, parseCheckpointText } from '@sporbar/auditor/note';
import { formatAddCheckpointBody, parseAddCheckpointBody, RequestError } from '../src/request.ts';

// c2sp.org/tlog-witness's example request body.
const SPEC_BODY = `old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
`;
const NOTE = SPEC_BODY.slice(SPEC_BODY.indexOf('\n\n') + 2);
const HASH = 'PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=';

const refused = (body: string): string => {
  try {
    parseAddCheckpointBody(Buffer.from(body));
  } catch (err) {
    if (err instanceof RequestError) return 'refused';
    throw err;
  }
  return 'accepted';
};

describe('add-checkpoint request body', () => {
  it("parses the spec's example: old size, four proof hashes, the note with its origin", () => {
    const r = parseAddCheckpointBody(Buffer.from(SPEC_BODY));
    expect(r.oldSize).toBe(20852014);
    expect(r.proof.map((h) => h.toString('base64'))).toEqual(SPEC_BODY.split('\n').slice(1, 5));
    expect(r.origin).toBe('example.com/behind-the-sofa');
    expect(r.note.toString()).toBe(NOTE);
    expect(formatAddCheckpointBody(r.oldSize, r.proof, NOTE)).toBe(SPEC_BODY);
  });

  it('takes an empty proof: old 0, the empty line, the note', () => {
    const r = parseAddCheckpointBody(Buffer.from(`old 0\n\n${NOTE}`));
    expect(r).toMatchObject({ oldSize: 0, proof: [] });
    expect(formatAddCheckpointBody(0, [], NOTE)).toBe(`old 0\n\n${NOTE}`);
  });

  it.each([
    ['no empty line', `old 0\n${NOTE.replace('\n\n', '\n')}`],
    ['no old line', `\n${NOTE}`],
    ['a leading zero', `old 01\n\n${NOTE}`],
    ['a negative size', `old -1\n\n${NOTE}`],
    ['two spaces', `old  1\n\n${NOTE}`],
    ['a capital', `Old 1\n\n${NOTE}`],
    ['a size beyond 2^53-1', `old 9007199254740992\n\n${NOTE}`],
    ['a hash of 31 bytes', `old 5\n${Buffer.alloc(31).toString('base64')}\n\n${NOTE}`],
    ['a hash in base64url', `old 5\n${'5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8='.replace(/\+/g, '-').replace(/\//g, '_')}\n\n${NOTE}`],
    ['a hash without padding', `old 5\n${HASH.slice(0, -1)}\n\n${NOTE}`],
    ['64 proof lines', `old 5\n${`${HASH}\n`.repeat(64)}\n${NOTE}`],
    ['a CR LF', `old 5\r\n${HASH}\n\n${NOTE}`],
    ['no checkpoint', 'old 5\n\n'],
    ['an empty body', ''],
  ])('refuses %s (400)', (_what, body) => {
    expect(refused(body)).toBe('refused');
  });

  it('reads a proof hash whose last character carries unused bits as Go does (the 32 bytes are what is checked)', () => {
    const canonical = parseAddCheckpointBody(Buffer.from(`old 5\n${HASH}\n\n${NOTE}`)).proof[0]!;
    const loose = parseAddCheckpointBody(Buffer.from(`old 5\n${HASH.slice(0, -2)}x=\n\n${NOTE}`)).proof[0]!;
    expect(loose).toEqual(canonical);
  });

  it('takes 63 proof lines, the most the spec allows', () => {
    expect(parseAddCheckpointBody(Buffer.from(`old 5\n${`${HASH}\n`.repeat(63)}\n${NOTE}`)).proof).toHaveLength(63);
  });
});

describe('checkpoint text', () => {
  it("parses the spec's checkpoint and writes it back byte for byte", () => {
    const text = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
    const c = parseCheckpointText(text);
    expect(c).toMatchObject({ origin: 'example.com/behind-the-sofa', size: 20852163, extensions: [] });
    expect(c.root).toHaveLength(32);
    expect(formatCheckpointText(c)).toBe(text);
  });

  it('keeps extension lines, which the cosignature covers', () => {
    const text = 'o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nx-extension one\n';
    expect(parseCheckpointText(text).extensions).toEqual(['x-extension one']);
    expect(formatCheckpointText(parseCheckpointText(text))).toBe(text);
  });

  it.each([
    ['two lines', 'o\n1\n'],
    ['an empty origin', '\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['a leading zero', 'o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['a 31-byte root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['an empty extension line', 'o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\nx\n'],
    ['no final newline', 'o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I='],
  ])('refuses %s', (_what, text) => {
    expect(() => parseCheckpointText(text)).toThrow(CheckpointError);
  });
});
