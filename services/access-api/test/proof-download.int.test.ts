import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy, parseTlogProof, formatTlogProof, parseNote, verifyTlogProof } from '@sporbar/auditor/note';
import { leafHash } from '@sporbar/auditor';
import { goPrerequisites, tlogProofCheck } from '@sporbar/tlog-interop';
import { bearer } from './helpers.ts';
import { startProofSystem, type ProofSystem } from './proof-system.ts';

/**
 * A citizen's proof download, end to end: the access API over a real PGlite store, real read models,
 * the auditor's checkpointer and log service, the checkpoint published with two witnesses'
 * cosignatures. The downloaded .tlog-proof verifies with `sporbar-audit verify-proof` run as a
 * process and with the Go checksum database's code (tlogcheck); each tampered variant — a byte of
 * the entry, the index, a proof hash, a witness's cosignature, the checkpoint's root — fails in both.
 */
const CLI = fileURLToPath(new URL('../../auditor/src/cli.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const go = goPrerequisites();
if (!go.ok && process.env['CI'] === 'true') throw new Error(`the Go verifier cannot be built under CI=true: missing ${go.missing.join(', ')}`);

describe('GET /v1/me/disclosures/:eventId/proof', () => {
  let sys: ProofSystem;
  let dir: string;
  let policyFile: string;
  let proofText: string;

  const download = (eventId: string, token = sys.tokenMine) => sys.app.inject({ method: 'GET', url: `/v1/me/disclosures/${eventId}/proof`, headers: bearer(token) });

  /** sporbar-audit verify-proof as a process. */
  const cli = (text: string, ...args: string[]) => {
    const file = join(dir, `p-${Math.random().toString(36).slice(2)}.tlog-proof`);
    writeFileSync(file, text);
    const r = spawnSync(TSX, [CLI, 'verify-proof', file, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const goCheck = (text: string) => tlogProofCheck(text, sys.logVkey, sys.cosigners.map((c) => c.vkey), 2);

  beforeAll(async () => {
    sys = await startProofSystem({ count: 4 });
    dir = mkdtempSync(join(tmpdir(), 'sporbar-proofs-'));
    policyFile = join(dir, 'policy.txt');
    writeFileSync(policyFile, sys.policy);
    const r = await download(sys.mine[1]!);
    expect(r.statusCode).toBe(200);
    proofText = r.body;
  }, 60_000);
  afterAll(async () => {
    await sys?.close();
  });

  it('answers a C2SP tlog-proof file: the entry is the stored bytes, the checkpoint the published cosigned one', async () => {
    const r = await download(sys.mine[1]!);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['content-disposition']).toBe(`attachment; filename="sporbar-${sys.mine[1]}.tlog-proof"`);
    expect(r.headers['cache-control']).toBe('private, no-store');
    const p = parseTlogProof(r.body);
    let stored: Uint8Array | undefined;
    for await (const e of sys.store.readAll()) if (e.eventId === sys.mine[1]) stored = e.data;
    expect(p.extra!.equals(Buffer.from(stored!))).toBe(true);
    const published = (await sys.app.inject({ method: 'GET', url: '/v1/log/checkpoint' })).json() as { checkpoint: string; treeSize: number };
    expect(p.checkpoint).toBe(published.checkpoint);
    expect(parseNote(p.checkpoint).signatures.map((s) => s.name)).toEqual([sys.origin, 'datatilsynet', 'rigsrevisionen']);
    const proof = (await sys.app.inject({ method: 'GET', url: `/v1/log/proof/inclusion?eventId=${sys.mine[1]}` })).json() as { leafIndex: number; leafHash: string };
    expect(p.index).toBe(proof.leafIndex);
    expect(leafHash(p.extra!).toString('base64')).toBe(proof.leafHash);
    const check = verifyTlogProof(r.body, parsePolicy(sys.policy));
    expect(check).toMatchObject({ ok: true, origin: sys.origin, index: proof.leafIndex, treeSize: published.treeSize });
  });

  it("another citizen's disclosure, an unknown id: the same 404; a malformed id: 400 naming the field; no token: 401", async () => {
    const others = await download(sys.others[0]!);
    expect(others.statusCode).toBe(404);
    expect(others.json()).toEqual({ code: 'SPB_ERR_NOT_FOUND', message: 'you have no disclosure with this eventId', details: { field: 'eventId' } });
    const unknown = await download('0f0f0f0f-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual(others.json());
    // The other citizen gets their own.
    expect((await download(sys.others[0]!, sys.tokenOther)).statusCode).toBe(200);
    expect((await download(sys.mine[0]!, sys.tokenOther)).statusCode).toBe(404);
    const bad = await download('not-a-uuid');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'SPB_ERR_BAD_REQUEST', details: { field: 'eventId' } });
    expect((await sys.app.inject({ method: 'GET', url: `/v1/me/disclosures/${sys.mine[0]}/proof` })).statusCode).toBe(401);
  });

  it('a disclosure no checkpoint covers yet: 409 in plain words; after the next checkpoint, its proof', async () => {
    const id = await sys.addUncovered();
    const r = await download(id);
    expect(r.statusCode).toBe(409);
    expect(r.json()).toEqual({ code: 'SPB_ERR_NOT_YET_CHECKPOINTED', message: 'this disclosure is not yet in a signed checkpoint; try again in a minute', details: { field: 'eventId' } });
    const size = await sys.checkpoint();
    const later = await download(id);
    expect(later.statusCode).toBe(200);
    expect(verifyTlogProof(later.body, parsePolicy(sys.policy))).toMatchObject({ ok: true, treeSize: size });
  });

  it("the JSON report gives each inclusion proof its proofUrl, and that URL downloads it", async () => {
    const r = await sys.app.inject({ method: 'GET', url: '/v1/me/report', headers: bearer(sys.tokenMine) });
    const proofs = (r.json() as { integrity: { inclusionProofs: Array<{ eventId: string; proofUrl: string }> } }).integrity.inclusionProofs;
    expect(proofs.length).toBeGreaterThanOrEqual(4);
    for (const p of proofs) expect(p.proofUrl).toBe(`/v1/me/disclosures/${p.eventId}/proof`);
    expect((await sys.app.inject({ method: 'GET', url: proofs[0]!.proofUrl, headers: bearer(sys.tokenMine) })).statusCode).toBe(200);
  });

  it('the log and the store disagreeing (a stored byte changed behind their backs) is never served: 500, no proof', async () => {
    const id = sys.mine[3]!;
    await sys.pglite.query(`UPDATE sporbar.events SET data = set_byte(data, length(data) - 1, get_byte(data, length(data) - 1) # 1) WHERE event_id = $1`, [id]);
    const r = await download(id);
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ code: 'SPB_ERR_INTERNAL', message: 'internal error' });
  });

  it('sporbar-audit verify-proof (a process) proves it and says what it proves in words', () => {
    const r = cli(proofText, '--policy', policyFile);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const p = parseTlogProof(proofText);
    expect(r.out).toContain(`PROVEN: entry ${p.index} is in log ${sys.origin}`);
    expect(r.out).toMatch(/witnesses: cosigned by datatilsynet, rigsrevisionen/);
    expect(r.out).toMatch(/event: DisclosureRecorded \(schema version \d+\), eventId /);
    expect(r.out).toContain(`eventId ${sys.mine[1]}`);
    expect(r.out).toMatch(/occurred at: 2026-10-02T09:00:00\.000Z/);
    expect(r.out).toMatch(/recipient: \S+ \(/);
    expect(r.out).toMatch(/purpose: \S+/);
    // --key: the log alone (quorum none) also proves it; a policy naming other witnesses does not.
    expect(cli(proofText, '--key', sys.logVkey)).toMatchObject({ code: 0 });
    expect(cli(proofText)).toMatchObject({ code: 2 });
  });

  it.skipIf(!go.ok)('the Go checksum database code (tlogcheck) proves it: the log, both witnesses, the entry', () => {
    const a = goCheck(proofText);
    expect(a).toMatchObject({ ok: true, exitCode: 0, origin: sys.origin, inclusion: ['ok'] });
    expect(a.signers!.map((s) => s.split('+')[0])).toEqual([sys.origin, 'datatilsynet', 'rigsrevisionen']);
    // Fewer witnesses known than the quorum asks: not proven.
    expect(tlogProofCheck(proofText, sys.logVkey, [sys.cosigners[0]!.vkey], 2)).toMatchObject({ ok: false, exitCode: 1 });
  });

  /** Tampered copies of the proof, each of which must fail. */
  function tampered(): Array<[what: string, text: string, cliSays: RegExp, goSays: RegExp]> {
    const p = parseTlogProof(proofText);
    const flip = (b: Buffer, at: number) => {
      const c = Buffer.from(b);
      c[at]! ^= 0x01;
      return c;
    };
    const note = parseNote(p.checkpoint);
    const sigLines = p.checkpoint.slice(note.text.length + 1).split('\n').filter(Boolean);
    const witnessLine = sigLines.findIndex((l) => l.startsWith('\u2014 datatilsynet '));
    const badWitness = sigLines.map((l, i) => {
      if (i !== witnessLine) return l;
      const [dash, name, b64] = l.split(' ');
      return `${dash} ${name} ${flip(Buffer.from(b64!, 'base64'), 40).toString('base64')}`;
    });
    const rootLine = note.text.split('\n')[2]!;
    const otherRoot = flip(Buffer.from(rootLine, 'base64'), 0).toString('base64');
    return [
      ['a byte of the entry', formatTlogProof({ ...p, extra: flip(p.extra!, 20) }), /does not lead to the checkpoint's root/, /invalid transparency proof/],
      ['the index', formatTlogProof({ ...p, index: p.index + 1 }), /does not lead to the checkpoint's root/, /invalid transparency proof/],
      ['a proof hash', formatTlogProof({ ...p, proof: p.proof.map((h, i) => (i === 0 ? flip(h, 5) : h)) }), /does not lead to the checkpoint's root/, /invalid transparency proof/],
      ["a witness's cosignature", formatTlogProof({ ...p, checkpoint: `${note.text}\n${badWitness.join('\n')}\n` }), /quorum .* is not met: cosigned by rigsrevisionen/, /quorum is not met: 1 of the 2/],
      ["the checkpoint's root", formatTlogProof({ ...p, checkpoint: p.checkpoint.replace(rootLine, otherRoot) }), /invalid signature for key sporbar\.v1\/proof-test/, /note\.Open \(the log's signature\): invalid signature/],
    ];
  }

  it('every tampered variant fails sporbar-audit verify-proof (exit 1, NOT PROVEN)', () => {
    const variants = tampered();
    expect(variants.length).toBe(5);
    for (const [what, text, says] of variants) {
      const r = cli(text, '--policy', policyFile);
      expect({ what, code: r.code }).toEqual({ what, code: 1 });
      expect(r.out, what).toMatch(/^NOT PROVEN: /);
      expect(r.out.split('\n')[0], what).toMatch(says);
    }
  });

  it.skipIf(!go.ok)('every tampered variant fails the Go check', () => {
    for (const [what, text, , says] of tampered()) {
      const a = goCheck(text);
      expect({ what, ok: a.ok, exitCode: a.exitCode }).toEqual({ what, ok: false, exitCode: 1 });
      expect([a.error ?? '', ...(a.inclusion ?? [])].join(' '), what).toMatch(says);
    }
  });
});
