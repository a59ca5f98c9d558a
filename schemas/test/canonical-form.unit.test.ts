import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crc64AvroSigned, loadSchemaCatalogue, parseAvroType, parsingCanonicalForm } from '../src/index.ts';

interface Vector {
  id: string;
  input: string;
  canonical: string;
  fingerprint?: bigint;
}

/** Parses Apache Avro's schema-tests.txt: `<<INPUT x` or a `<<INPUT` ... `INPUT` block, then canonical and fingerprint. */
function readVectors(): Vector[] {
  const text = readFileSync(new URL('./vectors/avro-schema-tests.txt', import.meta.url), 'utf8');
  const vectors: Vector[] = [];
  let current: Partial<Vector> & { id?: string } = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const id = /^\/\/ (\d{3})$/.exec(line);
    if (id) {
      if (current.input !== undefined) vectors.push(current as Vector);
      current = { id: id[1]! };
    } else if (line === '<<INPUT') {
      const block: string[] = [];
      while (lines[++i] !== 'INPUT') block.push(lines[i]!);
      current.input = block.join('\n');
    } else if (line.startsWith('<<INPUT ')) {
      current.input = line.slice('<<INPUT '.length);
    } else if (line.startsWith('<<canonical ')) {
      current.canonical = line.slice('<<canonical '.length);
    } else if (line.startsWith('<<fingerprint ')) {
      current.fingerprint = BigInt(line.slice('<<fingerprint '.length));
    }
  }
  if (current.input !== undefined) vectors.push(current as Vector);
  return vectors;
}

const vectors = readVectors();

describe("Apache Avro's canonical-form and fingerprint vectors", () => {
  it('reads all 34 vectors, 26 of them with fingerprints', () => {
    expect(vectors).toHaveLength(34);
    expect(vectors.filter((v) => v.fingerprint !== undefined)).toHaveLength(26);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('vector %s: canonical form', (_id, v) => {
    expect(parsingCanonicalForm(v.input)).toBe(v.canonical);
  });

  it.each(vectors.filter((v) => v.fingerprint !== undefined).map((v) => [v.id, v] as const))(
    'vector %s: CRC-64-AVRO fingerprint',
    (_id, v) => {
      expect(crc64AvroSigned(Buffer.from(v.canonical, 'utf8'))).toBe(v.fingerprint);
    },
  );

  it('a flipped bit in the canonical form changes the fingerprint', () => {
    const canonical = Buffer.from('"string"');
    const flipped = Buffer.from(canonical);
    flipped[1]! ^= 0x01;
    expect(crc64AvroSigned(flipped)).not.toBe(crc64AvroSigned(canonical));
  });
});

describe('Sporbar schemas', () => {
  it("each schema's canonical form equals the one avsc derives", () => {
    const catalogue = loadSchemaCatalogue();
    for (const t of catalogue.eventTypes) {
      for (const v of catalogue.versions(t)) {
        expect(v.canonicalForm).toBe(JSON.stringify(parseAvroType(v.schema).schema()));
      }
    }
  });

  it('strips logical types, docs and defaults, keeping full names', () => {
    const v1 = loadSchemaCatalogue().versions('DisclosureRecorded')[0]!;
    expect(v1.canonicalForm.startsWith('{"name":"sporbar.v1.DisclosureRecorded","type":"record","fields":[{"name":"eventId","type":"string"}')).toBe(true);
    expect(v1.canonicalForm).not.toMatch(/logicalType|doc|default/);
    expect(v1.canonicalForm).toContain('{"name":"sporbar.v1.SubjectRef","type":"record"');
  });
});
