import { describe, expect, it } from 'vitest';
import { arrayLiteral, arrayParam, columns } from '../src/batch.ts';
import { retentionPhases, type RetentionChange } from '../src/retention/retention-schedule.ts';

describe('array parameters (pure)', () => {
  it('quotes only where an array literal needs it, and escapes quotes and backslashes', () => {
    expect(arrayParam(['psn_k1_abc-_', 'a b', 'NULL', 'null', '', 'x"y', 'back\\slash', '{a,b}', null, 1.5, 10n, true])).toBe(
      '{psn_k1_abc-_,"a b","NULL","null","","x\\"y","back\\\\slash","{a,b}",NULL,1.5,10,t}',
    );
    expect(arrayParam([])).toBe('{}');
  });

  it('writes a per-row array as a literal that survives being an element of the column', () => {
    expect(arrayLiteral(['GDPR_ART6_1_E', 'cpr-number'])).toBe('{GDPR_ART6_1_E,cpr-number}');
    expect(arrayLiteral(['a "b"', 'NULL', ''])).toBe('{"a \\"b\\"","NULL",""}');
    expect(arrayLiteral([])).toBe('{}');
  });

  it('splits rows into one parameter per column', () => {
    expect(columns([{ a: 'x', b: 1 }, { a: 'y z', b: 2 }], (r) => r.a, (r) => r.b)).toEqual(['{x,"y z"}', '{1,2}']);
  });
});

describe('retention phases (pure)', () => {
  const due = (subject: string, deadline: string, last: number): RetentionChange => ({ kind: 'due', subject, activity: 'a', ruleId: 'r', deadline: new Date(deadline), lastEventMicros: last });

  it('keeps each subject in order around its expiries and shreddings, and merges its disclosures in between', () => {
    const phases = retentionPhases([
      due('s', '2026-02-01T00:00:00Z', 1),
      due('t', '2026-02-01T00:00:00Z', 1),
      due('s', '2026-03-01T00:00:00Z', 2),
      { kind: 'expired', subject: 's', activity: 'a', ruleId: 'r', atMicros: 3, coversUntilMicros: 2 },
      due('s', '2026-01-01T00:00:00Z', 4),
      { kind: 'shredded', subject: 's', atMicros: 5 },
      { kind: 'shredded', subject: 't', atMicros: 5 },
    ]);
    expect(phases.map((p) => [p.due.map((d) => `${d.subject}:${(d as { lastEventMicros: number }).lastEventMicros}`), p.expired.map((e) => e.subject), p.shredded.map((e) => e.subject)])).toEqual([
      [['s:2', 't:1'], [], []],
      [[], ['s'], ['t']],
      [['s:4'], [], []],
      [[], [], ['s']],
    ]);
    // Merged: the latest deadline and the latest event of the phase.
    expect((phases[0]!.due[0] as { deadline: Date }).deadline.toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });
});
