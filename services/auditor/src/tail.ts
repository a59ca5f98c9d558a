/**
 * The log's tail: the events after the largest verified checkpoint. A checkpoint certifies a prefix;
 * what follows it is not yet signed, so an insider with database access could have appended it (and
 * moved the position counter to match) without anything else in the log giving it away. `verify`
 * therefore measures the uncovered tail and fails when it is older (or longer) than a grace.
 *
 * The grace is measured in time since the *oldest* uncovered event was stored (its `recordedAt`,
 * the store's clock) and, optionally, in the number of uncovered events. Checkpoints themselves do not
 * count: a checkpoint of size S is always stored after leaf S-1, so the newest one is never covered.
 * Pure functions: `verify` gathers the figures, these decide.
 */

export interface TailGrace {
  /** The oldest uncovered event may be at most this old (ms). Undefined: no time limit. */
  readonly ms?: number;
  /** At most this many uncovered events. Undefined: no count limit. */
  readonly events?: number;
}

/**
 * Default: 5 minutes and no count limit. The log service signs once a minute (and at shutdown), so an
 * event older than five signing intervals that no checkpoint covers means the signer is down or the
 * event was put in behind its back. No count limit by default: at 5,000 events/s one minute's
 * interval leaves 300,000 events uncovered.
 */
export const DEFAULT_TAIL_GRACE: TailGrace = { ms: 5 * 60_000 };

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--tail-grace`: a comma-separated list of a duration (`90s`, `5m`, `2h`, `1d`, `0`) and/or a
 * number of events (`10000events`). Throws a message for the usage error.
 */
export function parseTailGrace(text: string): TailGrace {
  let ms: number | undefined;
  let events: number | undefined;
  for (const part of text.split(',').map((p) => p.trim())) {
    const count = /^(\d+)\s*events?$/.exec(part);
    const duration = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(part);
    if (count && events === undefined) events = Number(count[1]);
    else if (duration && ms === undefined) ms = Math.round(Number(duration[1]) * UNITS[duration[2]!]!);
    else if (part === '0' && ms === undefined) ms = 0;
    else throw new Error(`--tail-grace must be a duration (90s, 5m, 2h, 1d), a count (10000events) or both (5m,10000events), got '${text}'`);
  }
  return { ...(ms !== undefined ? { ms } : {}), ...(events !== undefined ? { events } : {}) };
}

export function formatGrace(g: TailGrace): string {
  const parts: string[] = [];
  if (g.ms !== undefined) parts.push(formatDuration(g.ms));
  if (g.events !== undefined) parts.push(`${g.events} event(s)`);
  return parts.length > 0 ? parts.join(' or ') : 'no limit';
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

export interface TailFacts {
  /** Leaves in the log. */
  readonly leaves: number;
  /** The largest tree size (within the log) certified by a checkpoint whose signature verified (0: none). */
  readonly coveredSize: number;
  /** Checkpoints whose signature verified (0: none at all). */
  readonly checkpointsVerified: number;
  /** Uncovered events that are not checkpoints. */
  readonly uncovered: number;
  /** The first uncovered event that is not a checkpoint, when there is one. */
  readonly oldest?: { readonly index: number; readonly position: bigint; readonly eventId: string; readonly recordedAt: Date };
  readonly lastPosition: bigint;
  readonly now: Date;
}

export interface TailVerdict {
  /** 'failure' makes verify fail; 'warning' is printed and kept in the report. */
  readonly level: 'failure' | 'warning';
  readonly kind: 'no-checkpoint' | 'uncovered';
  readonly index: number;
  readonly position?: bigint;
  readonly eventId?: string;
  readonly ageMs?: number;
  readonly message: string;
}

/**
 * The tail's verdict, or undefined when every event is covered (or the log is empty: an empty log has
 * nothing to sign and nothing to cover, so it is OK). No verified checkpoint at all is a failure
 * whatever the grace; an uncovered tail beyond the grace is a failure, within it a warning.
 * `allowUncovered` (the explicit escape hatch for development logs) turns both failures into warnings.
 */
export function judgeTail(f: TailFacts, grace: TailGrace, allowUncovered = false): TailVerdict | undefined {
  if (f.leaves === 0 || f.uncovered === 0 || !f.oldest) return undefined;
  const o = f.oldest;
  const ageMs = f.now.getTime() - o.recordedAt.getTime();
  const where = `position${f.uncovered > 1 ? `s ${o.position}..${f.lastPosition}` : ` ${o.position}`} (from leaf index ${o.index}, event ${o.eventId}, stored ${o.recordedAt.toISOString()}, ${formatDuration(ageMs)} ago)`;
  const hatch = allowUncovered ? ' (allowed by --allow-uncovered-tail)' : '';
  if (f.checkpointsVerified === 0) {
    return {
      level: allowUncovered ? 'warning' : 'failure',
      kind: 'no-checkpoint',
      index: o.index,
      position: o.position,
      eventId: o.eventId,
      ageMs,
      message: `no signed checkpoint covers any of the log's ${f.uncovered} event(s), ${where}: nothing in the log proves they were not inserted, edited or deleted by anyone with database access; is the log service signing?${hatch}`,
    };
  }
  const tooOld = grace.ms !== undefined && ageMs > grace.ms;
  const tooMany = grace.events !== undefined && f.uncovered > grace.events;
  const beyond = tooOld || tooMany;
  const why = beyond ? `beyond the grace of ${formatGrace(grace)}` : `within the grace of ${formatGrace(grace)}`;
  return {
    level: beyond && !allowUncovered ? 'failure' : 'warning',
    kind: 'uncovered',
    index: o.index,
    position: o.position,
    eventId: o.eventId,
    ageMs,
    message: `${f.uncovered} event(s) after tree size ${f.coveredSize} are not covered by any signed checkpoint, ${where}, ${why}: until a checkpoint covers them they are unproven (an event inserted there with the position counter moved looks like any other)${hatch}`,
  };
}
