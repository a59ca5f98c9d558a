import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, devPublicKey, devToken } from '@sporbar/access-api';
import { leafHash, verifyInclusion, verifyTreeHead } from '@sporbar/auditor';
import { checkSubjectList, decodeMapProof, verifySubjectMapBundle } from '@sporbar/auditor/map';
import { formatPolicy, parsePolicy } from '@sporbar/auditor/note';
import { createPseudonymiser } from '@sporbar/key-store';
import { createCodec, register, type SubjectMapCommitted } from '@sporbar/schemas';
import { startEmbeddedSystem, type DevKeys, type EmbeddedSystem } from '../src/index.ts';

/**
 * The completeness proof end to end (issue 22): disclosures through the whole flow, the checkpointer
 * commits the subject map into the log, the access API hands the citizen a bundle that proves their
 * list is exactly their leaves in the log — and it stays valid through erasure and a pseudonym-key
 * rotation (old and new pseudonyms both answer).
 */
const CPR = '020304-1122';
const OTHER = '050607-3344';
const codec = createCodec();
const dataDir = mkdtempSync(join(tmpdir(), 'sporbar-map-'));
let system: EmbeddedSystem;
const f = register.activities.find((a) => a.id === 'nemkonto-register')!.flows[0]!;
const record = (cpr: string | { pseudonym: string }) =>
  system.producer.recordDisclosure({ subject: typeof cpr === 'string' ? { cpr } : cpr, activity: 'nemkonto-register', recipient: { id: f.recipientId, role: f.roles[0] }, purpose: f.purposeIds[0]!, legalBases: [...f.legalBases], dataCategories: [...f.categoryIds] });

beforeAll(async () => {
  system = await startEmbeddedSystem({ dataDir, checkpointEveryMs: 60_000, subjectMapEveryMs: 60_000 });
  for (let i = 0; i < 4; i++) {
    await record(CPR);
    await record(OTHER);
  }
  await system.settle();
});
afterAll(async () => {
  await system?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Bundle {
  format: string;
  origin: string;
  checkpoint: string;
  commitment: { leafIndex: number; event: string; inclusionProof: string[] };
  subjects: Array<{ index: string; proof: string; leaves: Array<{ eventId: string; leafIndex: number; leafHash: string; event: string }> }>;
  pending: Array<{ eventId: string; leafIndex: number | null }>;
}

const token = (cpr: string) => devToken({ role: 'citizen', sub: cpr === CPR ? 'citizen-a' : 'citizen-b', cpr });

/** What the verifiers do, with the library's own functions: checkpoint, commitment inclusion, each map proof and chain. */
function check(bundle: Bundle, publicKeyPem: string): { count: number; mapSize: number } {
  const head = verifyTreeHead(bundle.checkpoint, publicKeyPem, { origin: bundle.origin });
  if (!head.ok) throw new Error('checkpoint does not verify');
  const event = Buffer.from(bundle.commitment.event, 'base64');
  const ok = verifyInclusion(bundle.commitment.leafIndex, head.treeHead.treeSize, leafHash(event), bundle.commitment.inclusionProof.map((h) => Buffer.from(h, 'base64')), head.treeHead.rootHash);
  if (!ok) throw new Error('commitment not in the checkpoint');
  const commitment = codec.decode(event).event as SubjectMapCommitted;
  let count = 0;
  for (const s of bundle.subjects) {
    const listed = s.leaves.map((l) => ({ logIndex: l.leafIndex, leafHash: Buffer.from(l.leafHash, 'base64') }));
    for (const l of s.leaves) expect(leafHash(Buffer.from(l.event, 'base64')).toString('base64')).toBe(l.leafHash);
    const result = checkSubjectList(commitment.rootHash, Buffer.from(s.index, 'hex'), decodeMapProof(Buffer.from(s.proof, 'base64')), listed, { treeSize: commitment.treeSize });
    if (!result.ok) throw new Error(`${result.reason}: ${result.detail}`);
    count += result.count;
  }
  return { count, mapSize: commitment.treeSize };
}

describe('the subject map in the whole flow', () => {
  it('no commitment yet: 409 in words; after one, the bundle proves exactly the citizen\'s disclosures', async () => {
    const get = (url: string, cpr = CPR) => system.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token(cpr)}` } });
    const early = await get('/v1/me/subject-map');
    expect(early.statusCode).toBe(409);
    expect(early.json().message).toMatch(/subject map|checkpoint/);

    const mapSize = await system.commitSubjectMapNow();
    expect(mapSize).toBeGreaterThanOrEqual(8);
    const key = system.log.publicKey().publicKeyPem;
    const res = await get('/v1/me/subject-map');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('private, no-store');
    const bundle = res.json() as Bundle;
    expect(bundle.format).toBe('sporbar-subject-map-proof/1');
    expect(check(bundle, key)).toEqual({ count: 4, mapSize });
    const mine = bundle.subjects.flatMap((s) => s.leaves.map((l) => l.eventId)).sort();
    const report = (await get('/v1/me/disclosures?limit=100')).json() as { items: Array<{ eventId: string }> };
    expect(mine).toEqual(report.items.map((i) => i.eventId).sort());
    // The other citizen's bundle holds only theirs.
    const theirs = (await get('/v1/me/subject-map', OTHER)).json() as Bundle;
    expect(check(theirs, key).count).toBe(4);
    expect(theirs.subjects[0]!.leaves.some((l) => mine.includes(l.eventId))).toBe(false);
    // Leaving one out, or adding one of theirs, fails.
    const omit = structuredClone(bundle);
    omit.subjects[0]!.leaves.splice(1, 1);
    expect(() => check(omit, key)).toThrow(/missing/);
    const extra = structuredClone(bundle);
    extra.subjects[0]!.leaves.push(theirs.subjects[0]!.leaves[0]!);
    extra.subjects[0]!.leaves.sort((a, b) => a.leafIndex - b.leafIndex);
    expect(() => check(extra, key)).toThrow(/extra|substituted/);
    // Map proofs are handed out inside a citizen's own bundle only: the API does not serve the log's map route.
    const index = bundle.subjects[0]!.index;
    expect((await system.app.inject({ method: 'POST', url: '/v1/log/subject-map/proofs', payload: { indexes: [index] } })).statusCode).toBe(404);
    // The download names a file; the page carries the section the on-device check fills.
    const download = await get('/v1/me/subject-map?download=true');
    expect(download.headers['content-disposition']).toMatch(/attachment; filename="sporbar-subject-map-\d{4}-\d{2}-\d{2}\.json"/);
    const page = await system.app.inject({ method: 'GET', url: '/v1/me/report', headers: { authorization: `Bearer ${token(CPR)}`, accept: 'text/html' } });
    expect(page.body).toContain('id="subject-map-check"');
    expect(page.body).toContain('data-total="4"');
    // The JSON copy carries the same proof; the bundle verifier checks the copy's list against it.
    const copy = (await get('/v1/me/report.json')).json() as { subjectMap: Bundle; disclosures: Array<{ eventId: string }> };
    expect(check(copy.subjectMap, key).count).toBe(copy.disclosures.length);
    const policy = parsePolicy(formatPolicy({ logs: [{ vkey: system.log.publicKey().verifierKey }], witnesses: [], quorum: 'none' }));
    const listed = copy.disclosures.map((d) => d.eventId);
    expect(verifySubjectMapBundle(copy.subjectMap, policy, codec, { listed })).toMatchObject({ ok: true, proven: 4 });
    // A copy whose list leaves one out, or lists one more, does not check out.
    expect(verifySubjectMapBundle(copy.subjectMap, policy, codec, { listed: listed.slice(1) })).toMatchObject({ ok: false, reason: 'missing-from-report' });
    expect(verifySubjectMapBundle(copy.subjectMap, policy, codec, { listed: [...listed, theirs.subjects[0]!.leaves[0]!.eventId] })).toMatchObject({ ok: false, reason: 'left-out-of-map' });
  });

  it('a new disclosure is pending until the next commitment; erasure keeps every proof valid', async () => {
    const get = (url: string) => system.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token(CPR)}` } });
    const { eventId } = await record(CPR);
    await system.settle();
    const key = system.log.publicKey().publicKeyPem;
    const before = (await get('/v1/me/subject-map')).json() as Bundle;
    expect(before.pending.map((p) => p.eventId)).toEqual([eventId]);
    expect(check(before, key).count).toBe(4);
    await system.commitSubjectMapNow();
    const after = (await get('/v1/me/subject-map')).json() as Bundle;
    expect(after.pending).toEqual([]);
    expect(check(after, key).count).toBe(5);

    await system.producer.requestErasure({ subject: { cpr: CPR }, reason: 'Art. 17 request' });
    await system.settle();
    await system.checkpointNow();
    const erased = (await get('/v1/me/subject-map')).json() as Bundle;
    // The shredded keys leave the stored bytes (and so every leaf hash) as they were: the same proof holds.
    expect(check(erased, key).count).toBe(5);
    expect(erased.subjects[0]!.leaves.map((l) => l.leafHash)).toEqual(after.subjects[0]!.leaves.map((l) => l.leafHash));
  });

  it('after a pseudonym-key rotation the old and the new pseudonym both answer, each with its own map proof', async () => {
    const old = (JSON.parse(readFileSync(join(dataDir, 'dev-keys.json'), 'utf8')) as DevKeys).pseudonymKey;
    const next = { id: 'dev2', secret: randomBytes(32).toString('base64url') };
    const rotated = createPseudonymiser(next, [old]);
    const [newPseudonym] = rotated.all(CPR);
    // A producer already on the new key (the ingest's rotation is its own test): two disclosures under the new pseudonym.
    await record({ pseudonym: newPseudonym! });
    await record({ pseudonym: newPseudonym! });
    await system.settle();
    await system.commitSubjectMapNow();
    const mapKey = (JSON.parse(readFileSync(join(dataDir, 'dev-keys.json'), 'utf8')) as DevKeys).subjectMapKey;
    const app = await buildApp({
      readModels: system.readModels, register, pseudonymiser: rotated, views: system.producer, jwtPublicKey: devPublicKey(), production: false,
      log: system.log, eventStore: system.store, subjectMapKey: Buffer.from(mapKey, 'base64url'),
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/me/subject-map', headers: { authorization: `Bearer ${token(CPR)}` } });
      expect(res.statusCode).toBe(200);
      const bundle = res.json() as Bundle;
      expect(bundle.subjects).toHaveLength(2);
      expect(bundle.subjects.map((s) => s.leaves.length)).toEqual([2, 5]);
      expect(check(bundle, system.log.publicKey().publicKeyPem).count).toBe(7);
      // Each index answers for its own pseudonym: swapping the two proofs fails.
      const swapped = structuredClone(bundle);
      [swapped.subjects[0]!.proof, swapped.subjects[1]!.proof] = [bundle.subjects[1]!.proof, bundle.subjects[0]!.proof];
      expect(() => check(swapped, system.log.publicKey().publicKeyPem)).toThrow();
    } finally {
      await app.close();
    }
  });
});
