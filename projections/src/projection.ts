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
  /** CREATE TABLE / INDEX statements; `{prefix}` is replaced so rebuilds can use fresh tables. */
  readonly ddl: readonly string[];
  /** Tables this projection owns (without the prefix), for rebuild and switch-over. */
  readonly tables: readonly string[];
  project(event: ProjectedEvent): Change[];
  apply(tx: Sql, changes: readonly Change[], prefix: string): Promise<void>;
}

// Each projection keeps its own Change type; the runner only passes changes from project() to apply().
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = Projection<any>;

export const withPrefix = (sql: string, prefix: string): string => sql.replaceAll('{prefix}', prefix);
