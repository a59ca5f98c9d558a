import { describe, expect, it } from 'vitest';
import { isSporbarError } from '@sporbar/common/errors';
import { assertTextRules, cprBirthYear, findControlCharacter, findCprLike, textProblems } from '../src/index.ts';

describe('text rules: control characters', () => {
  it.each([
    ['NUL', 'a\u0000b', 'U+0000'],
    ['tab', 'a\tb', 'U+0009'],
    ['line feed', 'a\nb', 'U+000A'],
    ['carriage return', 'a\rb', 'U+000D'],
    ['escape', '\u001b[31m', 'U+001B'],
    ['DEL', 'x\u007f', 'U+007F'],
    ['C1 (NEL)', 'x\u0085', 'U+0085'],
    ['C1 (U+009F)', 'x\u009f', 'U+009F'],
    ['line separator', 'x\u2028', 'U+2028'],
    ['right-to-left override', 'x\u202ey', 'U+202E'],
    ['first strong isolate', 'x\u2068y', 'U+2068'],
    ['non-character', 'x\uffff', 'U+FFFF'],
    ['lone high surrogate', 'x\ud800y', 'U+D800'],
    ['lone low surrogate', 'x\udc00', 'U+DC00'],
  ])('refuses %s in a single-line field, naming the code point', (_name, text, codePoint) => {
    expect(findControlCharacter(text)).toMatchObject({ codePoint });
  });

  it.each(['plain ascii', 'Skat – Danmarks Skatteforvaltning', 'Ærø Ø Å', 'emoji 😀 pair', '\u00a0nbsp', 'x\u00a0\u00ff', ''])('allows %j', (text) => {
    expect(findControlCharacter(text)).toBeNull();
  });

  it('allows tab, line feed and carriage return in multi-line free text only, nothing else', () => {
    expect(findControlCharacter('line one\r\n\tline two', { multiLine: true })).toBeNull();
    expect(findControlCharacter('a\u0000b', { multiLine: true })).toMatchObject({ codePoint: 'U+0000', index: 1 });
    expect(findControlCharacter('a\u000bb', { multiLine: true })).toMatchObject({ codePoint: 'U+000B' });
    expect(findControlCharacter('a\u0085', { multiLine: true })).toMatchObject({ codePoint: 'U+0085' });
  });
});

describe('text rules: CPR-shaped text', () => {
  it('uses the seventh-digit century rule', () => {
    expect(cprBirthYear(90, 0)).toBe(1990);
    expect(cprBirthYear(36, 4)).toBe(2036);
    expect(cprBirthYear(37, 4)).toBe(1937);
    expect(cprBirthYear(57, 5)).toBe(2057);
    expect(cprBirthYear(58, 8)).toBe(1858);
    expect(cprBirthYear(36, 9)).toBe(2036);
    expect(cprBirthYear(37, 9)).toBe(1937);
  });

  it.each([
    ['with the dash', '010190-1234'],
    ['without the dash', '0101901234'],
    ['with a space', '010190 1234'],
    ['inside a sentence', 'citizen 210376-4411 asked'],
    ['inside a longer token', 'order0101901234x'],
    ['after a hyphenated prefix', 'case-3112991234'],
    ['29 February of a leap year (2000: 7th digit 4, year 00)', '2902004000'],
    ['29 February 1996', '2902961234'],
    ['31 December', '311299-0000'],
    ['a second match after an invalid one', '3213901234 and 0101901234'],
  ])('finds a CPR number %s', (_name, text) => {
    expect(findCprLike(text)).toBe(true);
  });

  it.each([
    ['a Danish phone number', '+45 12 34 56 78'],
    ['a phone number in one piece', '4512345678'],
    ['an eight-digit phone number', '33926700'],
    ['an order number of 12 digits', '990101901234'],
    ['an order number of 11 digits', '01019012345'],
    ['nine digits', '010190123'],
    ['day 32', '3201901234'],
    ['day 00', '0001901234'],
    ['month 13', '0113901234'],
    ['month 00', '0100901234'],
    ['31 April', '3104901234'],
    ['29 February 1900 (7th digit 0-3)', '2902001234'],
    ['29 February 1858 (7th digit 5, year 58)', '2902585000'],
    ['29 February 1990', '2902901234'],
    ['a date with another separator', '01.01.90-1234'],
    ['two dashes', '010190--1234'],
    ['a uuid-like hex string without a digit run of ten', '3f2a9c10-1b2e-4c5d-8e9f-0a1b2c3d4e5f'],
    ['a CVR number', '34051178'],
    ['an ISO date and time', '2024-01-01T10:00:00Z'],
  ])('does not take %s for one', (_name, text) => {
    expect(findCprLike(text)).toBe(false);
  });
});

describe('textProblems / assertTextRules', () => {
  const disclosure = {
    eventId: 'ab010190-1234-4000-8000-ab0101901234',
    subject: { scheme: 'SEALED', value: 'x' },
    sourceSystem: 'mitid-core',
    activity: 'mitid-login',
    recipient: { id: 'danish-tax-authority', role: 'PUBLIC_AUTHORITY' },
    purpose: 'login',
    dataCategories: ['identity', 'ip-address'],
    correlationId: null,
    personalDetails: Buffer.from('0101901234'),
  };

  it('accepts a clean event; uuids, the subject and bytes are exempt from the CPR rule', () => {
    expect(textProblems(disclosure)).toEqual([]);
    expect(textProblems({ ...disclosure, subject: { cpr: '010190-1234' } })).toEqual([]);
    expect(textProblems({ keyId: 'k-0101901234', causationEventId: '00000000-0000-4000-8000-000101901234' })).toEqual([]);
  });

  it('names each field, with its own code, never the value', () => {
    const problems = textProblems({ ...disclosure, recipient: { id: 'tax\u0000', role: 'PUBLIC_AUTHORITY' }, correlationId: 'ref 010190-1234', dataCategories: ['ok', 'bad\n'] });
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['recipient.id', 'SPB_ERR_CONTROL_CHARACTER'],
      ['dataCategories[1]', 'SPB_ERR_CONTROL_CHARACTER'],
      ['correlationId', 'SPB_ERR_CPR_IN_TEXT'],
    ]);
    expect(JSON.stringify(problems)).not.toMatch(/010190|tax/);
  });

  it('personal details (HTTP form) may hold line breaks and CPR numbers, not NUL', () => {
    expect(textProblems({ personalDetails: { note: 'line 1\nline 2', other: '0101901234' } })).toEqual([]);
    expect(textProblems({ personalDetails: { note: 'a\u0000' } })).toEqual([{ path: 'personalDetails.note', code: 'SPB_ERR_CONTROL_CHARACTER', message: expect.any(String) }]);
  });

  it('refuses a control character in a field name', () => {
    expect(textProblems({ personalDetails: { 'a\u0000': 'x' } })[0]).toMatchObject({ path: 'personalDetails', code: 'SPB_ERR_CONTROL_CHARACTER' });
    const cprName = textProblems({ '010190-1234': 'a\u0000' });
    expect(cprName).toEqual([{ path: '(event)', code: 'SPB_ERR_CPR_IN_TEXT', message: expect.any(String) }]);
    expect(JSON.stringify(cprName)).not.toContain('010190');
  });

  it('assertTextRules throws the first problem as a SporbarError naming the field', () => {
    try {
      assertTextRules({ reason: 'erase 0101901234 please' }, 'ErasureRequested');
      expect.unreachable();
    } catch (e) {
      expect(isSporbarError(e, 'SPB_ERR_CPR_IN_TEXT')).toBe(true);
      expect((e as Error).message).toMatch(/^ErasureRequested\.reason: /);
      expect((e as Error).message).not.toContain('0101901234');
      expect((e as { statusCode: number }).statusCode).toBe(400);
    }
    expect(() => assertTextRules(disclosure)).not.toThrow();
  });
});
