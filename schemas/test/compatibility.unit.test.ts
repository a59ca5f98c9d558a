import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkCompatibility, createCodec, createSchemaCatalogue, fingerprintBytes, loadSchemaCatalogue, schemaVersion, SINGLE_OBJECT_MAGIC } from '../src/index.ts';
import { fixedDisclosure } from './fixtures.ts';

const catalogue = loadSchemaCatalogue();
const v2 = catalogue.current('DisclosureRecorded');
type Field = { name: string; type: unknown; default?: unknown };
const withFields = (change: (fields: Field[]) => Field[]) => {
  const schema = structuredClone(v2.schema) as { fields: Field[] };
  schema.fields = change(schema.fields);
  return schemaVersion('DisclosureRecorded', 3, schema, 'v3 fixture');
};
const catalogueWith = (v3: ReturnType<typeof withFields>) => createSchemaCatalogue([...catalogue.versions('DisclosureRecorded'), v3]);

describe('schema compatibility', () => {
  it('every committed schema version is readable by its neighbours', () => {
    expect(checkCompatibility(catalogue)).toEqual([]);
  });

  it('compatible change: a new optional field with a default (v3 adds channel)', () => {
    const v3 = withFields((f) => [...f, { name: 'channel', type: ['null', 'string'], default: null }]);
    const extended = catalogueWith(v3);
    expect(checkCompatibility(extended)).toEqual([]);
    // And data flows both ways: v3 bytes decode with the v3 reader; v2 bytes too, with channel = null.
    const codec = createCodec({ catalogue: extended });
    const v2bytes = createCodec().encode('DisclosureRecorded', fixedDisclosure());
    expect(codec.decode(v2bytes).event).toEqual({ ...fixedDisclosure(), channel: null });
    const v3bytes = Buffer.concat([SINGLE_OBJECT_MAGIC, fingerprintBytes(v3.fingerprint), v3.type.toBuffer({ ...fixedDisclosure(), channel: 'app' })]);
    // A consumer still reading as v2 that knows the v3 schema reads v3 bytes without the new field.
    expect(createCodec({ catalogue: extended, readAs: { DisclosureRecorded: 2 } }).decode(v3bytes).event).toEqual(fixedDisclosure());
    expect(createCodec({ catalogue: extended }).decode(v3bytes).event).toEqual({ ...fixedDisclosure(), channel: 'app' });
  });

  it('compatible change: a new enum symbol, because the enum has a default', () => {
    const v3 = withFields((f) =>
      f.map((x) => (x.name === 'recipient' ? { ...x, type: JSON.parse(JSON.stringify(x.type).replace('"UNKNOWN"]', '"UNKNOWN","DATA_BROKER"]')) } : x)),
    );
    expect(checkCompatibility(catalogueWith(v3))).toEqual([]);
  });

  it('breaking change: a new field without a default cannot read old data (backward)', () => {
    const v3 = withFields((f) => [...f, { name: 'channel', type: 'string' }]);
    const problems = checkCompatibility(catalogueWith(v3));
    expect(problems.map((p) => `${p.from}->${p.to} ${p.direction}`)).toEqual(['2->3 backward']);
    expect(problems[0]!.reason).toMatch(/channel/);
  });

  it('breaking change: a field that changes type breaks both directions', () => {
    const v3 = withFields((f) => f.map((x) => (x.name === 'purpose' ? { ...x, type: 'int' } : x)));
    const problems = checkCompatibility(catalogueWith(v3));
    expect(problems.map((p) => p.direction).sort()).toEqual(['backward', 'forward']);
  });

  it('npm run schemas:check passes on the committed schemas', () => {
    const out = execFileSync('npx', ['tsx', 'src/cli/check-compatibility.ts'], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
    // The fingerprints as hex of their 8 little-endian bytes, as the single-object encoding carries them.
    expect(out).toMatch(/DisclosureRecorded: v1 9b4d6e8bfaa65f8b, v2 e9ab15ddb42d0d62/);
    expect(out).toMatch(/RegisterPublished: v1 66d1a130a637740c/);
    expect(out).toMatch(/✓ 10 event types/);
  });
});
