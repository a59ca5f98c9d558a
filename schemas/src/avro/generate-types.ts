import type { SchemaCatalogue } from './schema-catalogue.ts';

/**
 * TypeScript declarations for the current version of every event schema: the .avsc files are the
 * one source of truth, src/generated/events.ts is their output, and a test fails when it is stale.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const PRIMITIVE_TS: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

const shortName = (name: string): string => name.slice(name.lastIndexOf('.') + 1);

export function generateEventTypes(catalogue: SchemaCatalogue): string {
  const declarations = new Map<string, string>();

  const declare = (name: string, text: string): void => {
    const existing = declarations.get(name);
    if (existing !== undefined && existing !== text) {
      throw new Error(`named type ${name} is defined twice with different shapes`);
    }
    declarations.set(name, text);
  };

  const tsOf = (schema: Json): string => {
    if (typeof schema === 'string') return PRIMITIVE_TS[schema] ?? shortName(schema);
    if (Array.isArray(schema)) return schema.map(tsOf).join(' | ');
    if (schema === null || typeof schema !== 'object') throw new Error(`bad schema ${JSON.stringify(schema)}`);
    const type = schema['type'] as Json;
    const logical = schema['logicalType'];
    const doc = typeof schema['doc'] === 'string' ? `/** ${schema['doc']} */\n` : '';
    if (typeof type !== 'string') return tsOf(type);
    if (logical === 'uuid') return 'Uuid';
    if (logical === 'timestamp-micros') return 'TimestampMicros';
    if (type in PRIMITIVE_TS) return PRIMITIVE_TS[type]!;
    if (type === 'array') return `Array<${tsOf(schema['items'] as Json)}>`;
    if (type === 'map') return `Record<string, ${tsOf(schema['values'] as Json)}>`;
    const name = shortName(String(schema['name']));
    if (type === 'enum') {
      const symbols = (schema['symbols'] as string[]).map((s) => `'${s}'`).join(' | ');
      declare(name, `${doc}export type ${name} = ${symbols};\nexport const ${name}Values = [${(schema['symbols'] as string[]).map((s) => `'${s}'`).join(', ')}] as const;`);
      return name;
    }
    if (type === 'fixed') {
      declare(name, `${doc}/** Avro fixed(${Number(schema['size'])}). */\nexport type ${name} = Buffer;`);
      return name;
    }
    if (type === 'record') {
      const fields = (schema['fields'] as Array<{ [key: string]: Json }>).map((f) => {
        const fdoc = typeof f['doc'] === 'string' ? `  /** ${f['doc']} */\n` : '';
        return `${fdoc}  ${String(f['name'])}: ${tsOf(f['type'] as Json)};`;
      });
      declare(name, `${doc}export interface ${name} {\n${fields.join('\n')}\n}`);
      return name;
    }
    return shortName(type);
  };

  for (const eventType of catalogue.eventTypes) tsOf(catalogue.current(eventType).schema as Json);

  const lines = [
    '// Generated from schemas/avro/*/v<N>.avsc by `npm run schemas:gen`. Do not edit by hand.',
    '',
    '/** A canonical UUID string (Avro logical type uuid). */',
    'export type Uuid = string;',
    '/** Microseconds since the Unix epoch (Avro logical type timestamp-micros). */',
    'export type TimestampMicros = number;',
    '',
    ...[...declarations.values()].flatMap((d) => [d, '']),
    `export const EVENT_TYPES = [${catalogue.eventTypes.map((t) => `'${t}'`).join(', ')}] as const;`,
    'export type EventType = (typeof EVENT_TYPES)[number];',
    '',
    'export interface EventMap {',
    ...catalogue.eventTypes.map((t) => `  ${t}: ${t};`),
    '}',
    '',
    '/** Any Sporbar event with its type tag. */',
    'export type SporbarEvent = { [K in EventType]: { type: K; data: EventMap[K] } }[EventType];',
    '',
  ];
  return lines.join('\n');
}
