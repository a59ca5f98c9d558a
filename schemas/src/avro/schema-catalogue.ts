import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { parsingCanonicalForm } from './canonical-form.ts';
import { crc64Avro } from './crc64-avro.ts';
import { LOGICAL_TYPES } from './logical-types.ts';
import { SporbarError } from '@sporbar/common/errors';

/** Where the versioned .avsc files live: schemas/avro/<EventType>/v<N>.avsc. */
export const AVRO_DIR = fileURLToPath(new URL('../../avro/', import.meta.url));

export interface SchemaVersion {
  readonly eventType: string;
  readonly version: number;
  readonly file: string;
  readonly schema: object;
  readonly canonicalForm: string;
  /** CRC-64-AVRO of the canonical form, unsigned. */
  readonly fingerprint: bigint;
  readonly type: avro.Type;
}

export interface SchemaCatalogue {
  readonly eventTypes: readonly string[];
  /** Every version of one event type, oldest first. */
  versions(eventType: string): readonly SchemaVersion[];
  /** The newest version: what readers resolve to and writers write. */
  current(eventType: string): SchemaVersion;
  byFingerprint(fingerprint: bigint): SchemaVersion | undefined;
}

export function parseAvroType(schema: object): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { logicalTypes: LOGICAL_TYPES, wrapUnions: false });
}

export function schemaVersion(eventType: string, version: number, schema: object, file = '<memory>'): SchemaVersion {
  const canonicalForm = parsingCanonicalForm(schema);
  return {
    eventType,
    version,
    file,
    schema,
    canonicalForm,
    fingerprint: crc64Avro(Buffer.from(canonicalForm, 'utf8')),
    type: parseAvroType(schema),
  };
}

/** Builds a catalogue from versions given in memory (tests use this for breaking-change fixtures). */
export function createSchemaCatalogue(all: readonly SchemaVersion[]): SchemaCatalogue {
  const byType = new Map<string, SchemaVersion[]>();
  const byFp = new Map<bigint, SchemaVersion>();
  for (const v of all) {
    const list = byType.get(v.eventType) ?? [];
    list.push(v);
    byType.set(v.eventType, list);
    const clash = byFp.get(v.fingerprint);
    if (clash && clash !== v) {
      throw new SporbarError('SPB_ERR_INCOMPATIBLE_SCHEMA', `${v.file} has the same fingerprint as ${clash.file}`);
    }
    byFp.set(v.fingerprint, v);
  }
  for (const list of byType.values()) list.sort((a, b) => a.version - b.version);
  const eventTypes = [...byType.keys()].sort();
  const versions = (eventType: string): readonly SchemaVersion[] => {
    const list = byType.get(eventType);
    if (!list) throw new SporbarError('SPB_ERR_UNKNOWN_EVENT_TYPE', `no Avro schema for event type '${eventType}'`);
    return list;
  };
  return {
    eventTypes,
    versions,
    current: (eventType) => versions(eventType).at(-1)!,
    byFingerprint: (fp) => byFp.get(fp),
  };
}

/** Reads every schemas/avro/<EventType>/v<N>.avsc file. */
export function loadSchemaCatalogue(dir: string = AVRO_DIR): SchemaCatalogue {
  const all: SchemaVersion[] = [];
  for (const eventType of readdirSync(dir).sort()) {
    for (const file of readdirSync(join(dir, eventType))) {
      const match = /^v(\d+)\.avsc$/.exec(file);
      if (!match) continue;
      const path = join(dir, eventType, file);
      const schema = JSON.parse(readFileSync(path, 'utf8')) as { name: string };
      if (schema.name !== eventType) {
        throw new SporbarError('SPB_ERR_INCOMPATIBLE_SCHEMA', `${path}: record name '${schema.name}' differs from its folder '${eventType}'`);
      }
      all.push(schemaVersion(eventType, Number(match[1]), schema, path));
    }
  }
  return createSchemaCatalogue(all);
}
