import { assertComposable, createDryRun, type Codec, type DisclosureRecorded, type DryRunReport, type RegisterFiles } from '@sporbar/schemas';
import type { LogSource } from './log/source.ts';

/**
 * `register-dry-run`: which recorded disclosures a candidate register would classify differently from
 * the current one, before it is published. One pass over the log through the store's port (as
 * `replay` reads it): every `DisclosureRecorded` is decoded with the schemas' codec and handed to the
 * pure dry run of `@sporbar/schemas` (`createDryRun`), which classifies it twice, each time against the
 * register in force at its occurredAt. Other event types are not decoded. Nothing is written.
 */
export interface RegisterDryRunOptions {
  readonly source: LogSource;
  readonly codec: Codec;
  /** The register as it is (by default the published one, `registerFiles` of @sporbar/schemas). */
  readonly current: RegisterFiles;
  /** The candidate directory, read with `readRegisterDir`. */
  readonly candidate: RegisterFiles;
  /** List at most this many changed disclosures (all are counted). Default 100. */
  readonly maxListed?: number;
  readonly onProgress?: (events: number, position: bigint) => void;
}

export interface RegisterDryRunResult extends DryRunReport {
  /** Events read (of every type) and the position of the last one (0 when none). */
  readonly events: number;
  readonly position: string;
}

export async function registerDryRun(options: RegisterDryRunOptions): Promise<RegisterDryRunResult> {
  // Both registers must compose at every instant a version begins or ends: fail before reading the log.
  assertComposable(options.current);
  assertComposable(options.candidate);
  const run = createDryRun(options.current, options.candidate, { maxListed: options.maxListed ?? 100 });
  let events = 0;
  let position = 0n;
  await options.source.scan((row) => {
    events++;
    position = row.position;
    if (events % 10_000 === 0) options.onProgress?.(events, row.position);
    if (row.type !== 'DisclosureRecorded') return;
    const decoded = options.codec.decode(Buffer.from(row.data));
    run.add({ eventId: row.eventId, position: row.position, event: decoded.event as DisclosureRecorded });
  });
  return { ...run.report(), events, position: position.toString() };
}
