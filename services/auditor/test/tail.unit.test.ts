import { describe, expect, it } from 'vitest';
import { DEFAULT_TAIL_GRACE, judgeTail, parseTailGrace, type TailFacts } from '../src/tail.ts';

const now = new Date('2026-12-07T12:00:00Z');
const facts = (over: Partial<TailFacts> = {}): TailFacts => ({
  leaves: 70,
  coveredSize: 65,
  checkpointsVerified: 6,
  uncovered: 4,
  oldest: { index: 66, position: 67n, eventId: 'e-66', recordedAt: new Date(now.getTime() - 60_000) },
  lastPosition: 70n,
  now,
  ...over,
});

describe('the tail grace', () => {
  it('parses durations, counts and both', () => {
    expect(parseTailGrace('5m')).toEqual({ ms: 300_000 });
    expect(parseTailGrace('90s')).toEqual({ ms: 90_000 });
    expect(parseTailGrace('0')).toEqual({ ms: 0 });
    expect(parseTailGrace('10000events')).toEqual({ events: 10_000 });
    expect(parseTailGrace('2h, 500 events')).toEqual({ ms: 7_200_000, events: 500 });
    for (const bad of ['', '5', 'soon', '5m,6m', '-1s', '3 apples']) expect(() => parseTailGrace(bad), bad).toThrow(/--tail-grace must be/);
  });

  it('an empty log or a covered tail has no verdict', () => {
    expect(judgeTail(facts({ leaves: 0, uncovered: 0, checkpointsVerified: 0 }), DEFAULT_TAIL_GRACE)).toBeUndefined();
    expect(judgeTail(facts({ uncovered: 0 }), DEFAULT_TAIL_GRACE)).toBeUndefined();
  });

  it('no verified checkpoint fails whatever the grace, unless explicitly allowed', () => {
    const f = facts({ coveredSize: 0, checkpointsVerified: 0, uncovered: 70, oldest: { index: 0, position: 1n, eventId: 'e-0', recordedAt: now } });
    expect(judgeTail(f, { ms: 86_400_000 })).toMatchObject({ level: 'failure', kind: 'no-checkpoint', position: 1n });
    expect(judgeTail(f, { ms: 86_400_000 }, true)).toMatchObject({ level: 'warning', kind: 'no-checkpoint' });
  });

  it('within the grace a warning naming the positions, beyond it (by age or by count) a failure', () => {
    const within = judgeTail(facts(), DEFAULT_TAIL_GRACE)!;
    expect(within).toMatchObject({ level: 'warning', kind: 'uncovered', index: 66, position: 67n, ageMs: 60_000 });
    expect(within.message).toContain('4 event(s) after tree size 65 are not covered by any signed checkpoint, positions 67..70');
    expect(within.message).toContain('within the grace of 5.0 min');
    expect(judgeTail(facts(), { ms: 59_999 })).toMatchObject({ level: 'failure', kind: 'uncovered' });
    expect(judgeTail(facts(), { ms: 60_000 })).toMatchObject({ level: 'warning' });
    expect(judgeTail(facts(), { ms: 300_000, events: 3 })).toMatchObject({ level: 'failure' });
    expect(judgeTail(facts(), { events: 4 })).toMatchObject({ level: 'warning' });
    expect(judgeTail(facts(), { ms: 0 }, true)).toMatchObject({ level: 'warning' });
  });
});
