import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createCosigner, verifyCosignature, formatVkey, parseNote, parseSignatureLine, parseVkey } from '@sporbar/auditor/note';
import { parseLogsFile } from '../src/logs.ts';
import { buildWitnessServer } from '../src/server.ts';
import { openPostgresStore, type CheckpointStore } from '../src/store.ts';
import { createWitness } from '../src/witness.ts';
import { createTestDatabase, dropTestDatabase, probePostgres } from '../../event-store/test/support/postgres.ts';
import { post } from './support/witness.ts';

/**
 * Another implementation's vectors, replayed: the add-checkpoint requests and expected answers of
 * litewitness's own test (github.com/FiloSottile/torchwood, cmd/litewitness/testdata/litewitness.txt):
 * a Sigsum log (key ffdc2d4d…, origin sigsum.org/v1/tree/<hex SHA-256 of the key>) whose checkpoints
 * were signed by a key nobody here holds. Its key ID 5202289b is C2SP's SHA-256(origin ‖ 0x0A ‖ 0x01 ‖
 * key)[:4]. One answer differs on purpose: litewitness answers an unknown origin with 403, the current
 * c2sp.org/tlog-witness says 404.
 */
const probe = await probePostgres();
const LOG_KEY = Buffer.from('ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f', 'hex');
const ORIGIN = 'sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562';
const SIG1 = `— ${ORIGIN} UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY=`;
const SIG3 = `— ${ORIGIN} UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go=`;
const SIG5 = `— ${ORIGIN} UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2KEmLOZ/ASRcWJi0tW90dJWAShei7sDww=`;
const CP1 = `${ORIGIN}\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n${SIG1}\n`;
const CP3 = `${ORIGIN}\n3\nRcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n\n${SIG3}\n`;
const CP5 = `${ORIGIN}\n5\nQrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=\n\n${SIG5}\n`;
const P = {
  k1: 'KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  k2: 'KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  k3: 'KgMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  k4: 'KgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  w: 'wgiIFdZfYNv6WU1OllBKsWnLYIS/DBMqt8Uh/S4OukE=',
  f: '+fUDV+k970B4I3uKrqJM4aP1lloPZP8mvr2Z4wRw2LI=',
};
const body = (old: number, proof: string[], checkpoint: string) => `old ${old}\n${proof.map((h) => `${h}\n`).join('')}\n${checkpoint}`;

const cosigner = createCosigner('example.com/witness', generateKeyPairSync('ed25519').privateKey);
let db: { name: string; url: string } | undefined;
let store: CheckpointStore;
let app: FastifyInstance;
let url: string;

describe.skipIf(probe.skip)("litewitness's add-checkpoint vectors", () => {
  beforeAll(async () => {
    db = await createTestDatabase(probe.url!);
    store = await openPostgresStore(db.url, 'witness');
    const vkey = formatVkey(ORIGIN, 0x01, LOG_KEY);
    expect(vkey.split('+')[1]).toBe('5202289b');
    const logs = [
      { origin: ORIGIN, keys: [vkey] },
      { origin: 'go.sum database tree', keys: ['sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8'] },
    ];
    const witness = createWitness({ cosigner, logs: parseLogsFile(JSON.stringify({ logs })), store });
    app = buildWitnessServer({ witness, store });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    if (db) await dropTestDatabase(probe.url!, db.name);
  });

  it('answers each request as litewitness does (but 404 for an unknown origin, as the current spec says)', async () => {
    const expectCosigned = (res: { status: number; text: string }, checkpoint: string) => {
      expect(res.status).toBe(200);
      expect(res.text.startsWith('— example.com/witness ')).toBe(true);
      expect(verifyCosignature(parseVkey(cosigner.vkey), parseNote(checkpoint).text, parseSignatureLine(res.text.trimEnd())).ok).toBe(true);
    };
    expectCosigned(await post(url, body(0, [], CP1)), CP1);
    // A signature by the log's key name and ID that does not verify: 403 "invalid signature".
    const tampered = CP3.replace(SIG3, `— ${ORIGIN} UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6gx=`);
    expect((await post(url, body(1, [P.k1, P.k2], tampered))).status).toBe(403);
    // Another origin (…563): litewitness 403 "unknown log"; tlog-witness today: 404.
    const unknown = `${ORIGIN.slice(0, -1)}3\n3\nRcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n\n— ${ORIGIN.slice(0, -1)}3 UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go=\n`;
    expect((await post(url, body(1, [P.k1, P.k2], unknown))).status).toBe(404);
    // No proof, then a proof with one bit changed: 422 "consistency proof".
    expect((await post(url, body(1, [], CP3))).status).toBe(422);
    expect((await post(url, body(1, [P.k1, 'KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABA='], CP3))).status).toBe(422);
    expectCosigned(await post(url, body(1, [P.k1, P.k2], CP3)), CP3);
    // From 1 again: 409 "3\n".
    expect(await post(url, body(1, [P.k1, P.f, P.k4], CP5))).toMatchObject({ status: 409, type: 'text/x.tlog.size', text: '3\n' });
    expectCosigned(await post(url, body(3, [P.k2, P.k3, P.w, P.k4], CP5)), CP5);
    expect(await post(url, body(0, [], CP5))).toMatchObject({ status: 409, type: 'text/x.tlog.size', text: '5\n' });
  });

  it("cosigns a real checkpoint of the Go checksum database (litewitness's sumdb vector: origin with spaces, key name sum.golang.org)", async () => {
    const checkpoint = `go.sum database tree\n35225469\nvt5T6GaLCXvyHFl9VUvvItR43XZxfLgftEcTyO3eJCQ=\n\n— sum.golang.org Az3grpukl5AXaVfYkLiDGORx/DN2nlcS5kZHR5uYOBV2KA2HgXpD+gu9HHONebHLAyaKbbTM75QTtPydhKCExixSfwQ=\n`;
    const res = await post(url, body(0, [], checkpoint));
    expect(res.status).toBe(200);
    expect(verifyCosignature(parseVkey(cosigner.vkey), parseNote(checkpoint).text, parseSignatureLine(res.text.trimEnd())).ok).toBe(true);
    expect(await post(url, body(0, [], checkpoint))).toMatchObject({ status: 409, text: '35225469\n' });
  });
});
