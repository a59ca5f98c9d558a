import type { EventMap, EventType } from '@sporbar/schemas';
import type { Sql } from './sql.ts';

/** An event as projections see it: decoded with the current reader schema, plus where it is in the log. */
export type ProjectedEvent = {
  [K in EventType]: {
    readonly type: K;
    readonly data: EventMap[K];
    readonly eventId: string;
    readonly globalPosition: bigint;
    readonly metadata: Readonly<Record<string, string>>;
  };
}[EventType];

/**
 * A read model: a pure `project(event) → changes` and the SQL that stores those changes. The
 * runner applies the changes of a batch and the checkpoint in one transaction.
 */
export interface Projection<Change> {
  readonly name: string;
  /**
   * Changed when a fix makes the projection take events it refused: on start, the runner re-applies
   * the events quarantined under an older version (default '1').
   */
  readonly version?: string;
  /** CREATE TABLE / INDEX statements; `{prefix}` is replaced so rebuilds can use fresh tables. */
  readonly ddl: readonly string[];
  /**
   * CREATE INDEX statements that only queries need, not apply: a rebuild creates them once it has
   * caught up, which over millions of rows is far cheaper than maintaining them row by row.
   */
  readonly indexes?: readonly string[];
  /** Tables this projection owns (without the prefix), for rebuild and switch-over. */
  readonly tables: readonly string[];
  project(event: ProjectedEvent): Change[];
  apply(tx: Sql, changes: readonly Change[], prefix: string): Promise<void>;
  /**
   * apply() in two steps: build the statements (pure CPU work, which the runner does while the
   * previous batch is still committing), then run them. `prepare(c, p)(tx)` has the effect of
   * `apply(tx, c, p)`, and may be run again after a rolled-back attempt.
   */
  prepare?(changes: readonly Change[], prefix: string): Prepared;
}

/** Statements built for one batch, ready to run in a transaction. */
export type Prepared = (tx: Sql) => Promise<void>;

/** A projection defined by prepare(); its apply() prepares and runs at once. */
export function preparedProjection<Change>(p: Omit<Projection<Change>, 'apply' | 'prepare'> & { prepare(changes: readonly Change[], prefix: string): Prepared }): Projection<Change> {
  return { ...p, apply: (tx, changes, prefix) => p.prepare(changes, prefix)(tx) };
}

/** Statements run one after the other. */
export const inOrder =
  (statements: ReadonlyArray<readonly [text: string, params: unknown[]]>): Prepared =>
  async (tx) => {
    for (const [text, params] of statements) await tx.query(text, params);
  };

// Each projection keeps its own Change type; the runner only passes changes from project() to apply().
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = Projection<any>;

export const withPrefix = (sql: string, prefix: string): string => sql.replaceAll('{prefix}', prefix);
