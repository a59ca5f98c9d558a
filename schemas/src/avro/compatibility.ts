import type { SchemaCatalogue, SchemaVersion } from './schema-catalogue.ts';

export interface CompatibilityProblem {
  readonly eventType: string;
  readonly from: number;
  readonly to: number;
  /** backward: the newer schema cannot read data written with the older; forward: the other way round. */
  readonly direction: 'backward' | 'forward';
  readonly reason: string;
}

function canRead(reader: SchemaVersion, writer: SchemaVersion): string | null {
  try {
    reader.type.createResolver(writer.type);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Each version must stay readable by the next (backward) and the next must be readable by the
 * previous one (forward), so producers and consumers can be upgraded in any order.
 */
export function checkCompatibility(catalogue: SchemaCatalogue): CompatibilityProblem[] {
  const problems: CompatibilityProblem[] = [];
  for (const eventType of catalogue.eventTypes) {
    const versions = catalogue.versions(eventType);
    for (let i = 1; i < versions.length; i++) {
      const older = versions[i - 1]!;
      const newer = versions[i]!;
      const backward = canRead(newer, older);
      if (backward) problems.push({ eventType, from: older.version, to: newer.version, direction: 'backward', reason: backward });
      const forward = canRead(older, newer);
      if (forward) problems.push({ eventType, from: older.version, to: newer.version, direction: 'forward', reason: forward });
    }
  }
  return problems;
}
