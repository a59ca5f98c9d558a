/**
 * Avro Parsing Canonical Form (Avro spec, "Transforming into Parsing Canonical Form"):
 * PRIMITIVES, FULLNAMES, STRIP, ORDER, STRINGS, INTEGERS, WHITESPACE.
 * Written out rather than taken from avsc because avsc refuses some schemas the spec's vectors use
 * (e.g. a boolean field whose default is the string "true"); the result is cross-checked against avsc
 * for every Sporbar schema in the tests.
 */
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function fullName(name: string, namespace: string | undefined): string {
  if (name.includes('.') || !namespace) return name;
  return `${namespace}.${name}`;
}

function namespaceOf(full: string): string | undefined {
  const i = full.lastIndexOf('.');
  return i < 0 ? undefined : full.slice(0, i);
}

function canon(schema: Json, namespace: string | undefined, seen: Set<string>): string {
  if (typeof schema === 'string') {
    if (PRIMITIVES.has(schema)) return JSON.stringify(schema);
    return JSON.stringify(fullName(schema, namespace));
  }
  if (Array.isArray(schema)) {
    return `[${schema.map((s) => canon(s, namespace, seen)).join(',')}]`;
  }
  if (schema === null || typeof schema !== 'object') {
    throw new TypeError(`not an Avro schema: ${JSON.stringify(schema)}`);
  }
  const type = schema['type'];
  if (typeof type !== 'string') return canon(type ?? null, namespace, seen);
  if (PRIMITIVES.has(type)) return JSON.stringify(type);
  if (type === 'array') return `{"type":"array","items":${canon(schema['items'] ?? null, namespace, seen)}}`;
  if (type === 'map') return `{"type":"map","values":${canon(schema['values'] ?? null, namespace, seen)}}`;
  if (NAMED.has(type)) {
    const ns = typeof schema['namespace'] === 'string' ? schema['namespace'] : namespace;
    const name = fullName(String(schema['name']), ns);
    if (seen.has(name)) return JSON.stringify(name);
    seen.add(name);
    const inner = namespaceOf(name);
    const parts = [`"name":${JSON.stringify(name)}`, `"type":${JSON.stringify(type)}`];
    if (type === 'record' || type === 'error') {
      const fields = (schema['fields'] as Array<{ [key: string]: Json }>) ?? [];
      const rendered = fields.map((f) => `{"name":${JSON.stringify(f['name'])},"type":${canon(f['type'] ?? null, inner, seen)}}`);
      parts.push(`"fields":[${rendered.join(',')}]`);
    } else if (type === 'enum') {
      parts.push(`"symbols":${JSON.stringify(schema['symbols'])}`);
    } else {
      parts.push(`"size":${Number(schema['size'])}`);
    }
    return `{${parts.join(',')}}`;
  }
  // A reference to a named type written as {"type": "Name"}.
  return JSON.stringify(fullName(type, namespace));
}

/** The Parsing Canonical Form of a schema given as JSON text or as parsed JSON. */
export function parsingCanonicalForm(schema: string | object): string {
  const json = (typeof schema === 'string' ? parseSchemaText(schema) : schema) as Json;
  return canon(json, undefined, new Set());
}

function parseSchemaText(text: string): Json {
  const trimmed = text.trim();
  // A bare primitive name is a valid schema ("int"); JSON.parse handles the quoted form.
  return JSON.parse(trimmed) as Json;
}
