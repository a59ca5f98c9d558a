import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { EXPORT_RECORD_SCHEMA, exportLog, verifyExport, type ExportedEvent } from '../src/export.ts';
import { codec, pgliteTestLog, postgresTestLog, writeLog, type TestLog, type WrittenLog } from './support.ts';

const probe = await probePostgres();
if (probe.skip) console.warn(`export (postgres): skipped: ${probe.skip}`);
// Apache Avro's own reader, when its jar is in the local Maven repository (mvn dependency:get -Dartifact=org.apache.avro:avro-tools:1.12.0).
const AVRO_TOOLS = join(homedir(), '.m2/repository/org/apache/avro/avro-tools/1.12.0/avro-tools-1.12.0.jar');
const javaAvro = existsSync(AVRO_TOOLS) && (() => {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!javaAvro) console.warn(`export: the avro-tools cross-check is skipped (no ${AVRO_TOOLS} or no java)`);

let pglite: PGlite;
let pgDb: { name: string; url: string } | undefined;
let dir: string;
beforeAll(async () => {
  pglite = await PGlite.create();
  if (probe.url) pgDb = await createTestDatabase(probe.url);
  dir = mkdtempSync(join(tmpdir(), 'sporbar-export-'));
});
afterAll(async () => {
  await pglite?.close();
  if (probe.url && pgDb) await dropTestDatabase(probe.url, pgDb.name);
  rmSync(dir, { recursive: true, force: true });
});

/** Flips one byte of the stored bytes of the event with this id, wherever it sits in the file. */
function flipStoredByte(file: string, needle: Buffer): void {
  const bytes = readFileSync(file);
  const at = bytes.indexOf(needle);
  expect(at).toBeGreaterThan(0);
  bytes[at + needle.length - 1]! ^= 0x01;
  writeFileSync(file, bytes);
}

async function readAvro(file: string): Promise<ExportedEvent[]> {
  const out: ExportedEvent[] = [];
  for await (const r of avro.createFileDecoder(file) as AsyncIterable<ExportedEvent>) out.push(r);
  return out;
}

function suite(name: string, open: () => Promise<TestLog>, skip = false) {
  describe.skipIf(skip)(`export on ${name}`, () => {
    let log: TestLog;
    let written: WrittenLog;
    beforeAll(async () => {
      if (skip) return;
      log = await open();
      written = await writeLog(log.store);
    });
    afterAll(async () => {
      await log?.close();
    });

    it('avro: a container file any Avro reader reads, and proofs that verify offline', async () => {
      const out = join(dir, `${name}.avro`);
      const r = await exportLog({ source: log.source, codec, format: 'avro', out, publicKey: written.key, from: { position: 5n }, to: { position: 40n } });
      expect(r).toMatchObject({ events: 36, treeSize: 65, uncovered: false, files: [out, `${out}.proofs.ndjson`] });
      const records = await readAvro(out);
      expect(records.map((x) => x.position)).toEqual(Array.from({ length: 36 }, (_, i) => i + 5));
      expect(records[0]).toMatchObject({ leafIndex: 4, eventId: written.leaves[4], eventType: 'DisclosureRecorded', producer: 'mitid-core' }); // the authenticated producer
      expect(codec.decode(records[0]!.storedBytes).event).toMatchObject({ eventId: written.leaves[4] });
      const header = avro.extractFileHeader(out)! as { meta: Record<string, Buffer> };
      expect(header.meta['sporbar.checkpoint']!.toString()).toBe(written.checkpoints[5]!.text);
      expect(JSON.parse(header.meta['sporbar.writerSchemas']!.toString())[codec.fingerprintHex('DisclosureRecorded')]).toMatchObject({ name: 'DisclosureRecorded' });
      // Its keys are the stored bytes' own 2..9 (little-endian), as the Kafka header and the store's metadata write them.
      expect(JSON.parse(header.meta['sporbar.writerSchemas']!.toString())[Buffer.from(records[0]!.storedBytes).subarray(2, 10).toString('hex')]).toMatchObject({ name: 'DisclosureRecorded' });

      const ok = await verifyExport(out, written.key);
      expect(ok).toMatchObject({ ok: true, events: 36, treeSize: 65, problems: [] });

      flipStoredByte(out, Buffer.from(`payment-20`)); // disclosure 20 is leaf 22 (two checkpoints precede it)
      const bad = await verifyExport(out, written.key);
      expect(bad.ok).toBe(false);
      expect(bad.problems[0]).toContain(`event at position 23 (leaf index 22, event ${written.leaves[22]}): its stored bytes are not the log's leaf`);
    });

    it.skipIf(!javaAvro)('avro: Apache avro-tools reads the container file (tojson, getmeta)', async () => {
      const out = join(dir, `${name}-java.avro`);
      await exportLog({ source: log.source, codec, format: 'avro', out, to: { position: 3n } });
      const json = execFileSync('java', ['-jar', AVRO_TOOLS, 'tojson', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const lines = json.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l['position'])).toEqual([1, 2, 3]);
      expect(lines[0]).toMatchObject({ leafIndex: 0, eventId: written.leaves[0], eventType: 'DisclosureRecorded' });
      const meta = execFileSync('java', ['-jar', AVRO_TOOLS, 'getmeta', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(meta).toContain('sporbar.checkpoint');
      expect(JSON.parse(execFileSync('java', ['-jar', AVRO_TOOLS, 'getschema', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))).toMatchObject({ name: EXPORT_RECORD_SCHEMA.name });
    });

    it('ndjson: events, then the checkpoint and proofs; a flipped byte fails', async () => {
      const out = join(dir, `${name}.ndjson`);
      const r = await exportLog({ source: log.source, codec, format: 'ndjson', out, publicKey: written.key });
      // Everything up to the newest checkpoint (65 leaves); the 4 after it are not covered yet.
      expect(r).toMatchObject({ events: 65, treeSize: 65, files: [out] });
      const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.slice(0, 65).every((l) => l['kind'] === 'event')).toBe(true);
      expect(lines[65]).toMatchObject({ kind: 'checkpoint', treeSize: 65, checkpoint: written.checkpoints[5]!.text, events: 65 });
      expect(lines.slice(66).every((l) => l['kind'] === 'proof')).toBe(true);
      expect(await verifyExport(out, written.key)).toMatchObject({ ok: true, events: 65 });

      const text = readFileSync(out, 'utf8').split('\n');
      const e = JSON.parse(text[30]!) as { storedBytes: string };
      const bytes = Buffer.from(e.storedBytes, 'base64');
      bytes[bytes.length - 1]! ^= 0x02;
      text[30] = JSON.stringify({ ...e, storedBytes: bytes.toString('base64') });
      writeFileSync(out, text.join('\n'));
      const bad = await verifyExport(out, written.key);
      expect(bad.ok).toBe(false);
      expect(bad.problems).toHaveLength(1);
      expect(bad.problems[0]).toContain('event at position 31 (leaf index 30');
    });

    it('an export is refused by a different key', async () => {
      const out = join(dir, `${name}-key.ndjson`);
      await exportLog({ source: log.source, codec, format: 'ndjson', out, to: { position: 2n } });
      const other = (await import('../src/checkpoint/signed-tree-head.ts')).generateSigningKey();
      const r = await verifyExport(out, other);
      expect(r.ok).toBe(false);
      expect(r.problems[0]).toContain("the export's checkpoint does not verify");
    });
  });
}

suite('PGlite', () => pgliteTestLog(pglite));
suite('PostgreSQL', () => postgresTestLog(pgDb!.url), probe.skip !== undefined);
