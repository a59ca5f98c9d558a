import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alteredBundles, buildSubjectMapBundle, cloneBundle, pseudonymOf } from './support/subject-map-bundle.ts';
import { runCliCaptured } from './support/run-cli.ts';

/**
 * `sporbar-audit verify-proof` on a citizen's subject map proof (GET /v1/me/subject-map) and on a
 * report.json copy that embeds it: real bundles (a real log, map and cosigned checkpoint), checked with
 * the witness policy or the log's key alone; the omitted, padded and reordered variants exit 1 and
 * say why in words.
 */
let dir: string;
const A = pseudonymOf('anna');
const B = pseudonymOf('bo');
const built = buildSubjectMapBundle({ covered: [A, B, A, null, B, A, A], after: [A], unlogged: 1, citizen: [A] });

const cli = (...args: string[]) => runCliCaptured(['--quiet', ...args]);

const file = (name: string, content: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
};

/** A report.json copy as the access API shapes it, with the bundle as `subjectMap`. */
const reportCopy = (subjectMap: unknown, eventIds: readonly string[]) => ({
  format: 'sporbar-report-copy/1',
  generatedAt: '2026-01-01T00:00:00.000Z',
  lang: 'en',
  report: {},
  disclosures: eventIds.map((eventId) => ({ eventId, purpose: 'nemkonto-payments', proofUrl: `/v1/me/disclosures/${eventId}/proof` })),
  subjectMap,
  words: {},
});

let policy: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sporbar-map-cli-'));
  policy = file('policy.txt', built.policy);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sporbar-audit verify-proof on a subject map proof', () => {
  it('a good bundle: exit 0, in words, under the policy and under the log key alone', async () => {
    const path = file('subject-map.json', built.bundle);
    const r = await cli('verify-proof', path, '--policy', policy);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain("PROVEN COMPLETE: all 4 disclosures about you in the log's first 7 entries (entries 0..6) are here — none missing, none added");
    expect(r.out).toContain(`log: ${built.origin}, signed checkpoint of 9 entries`);
    expect(r.out).toContain('cosigned by datatilsynet, rigsrevisionen (the policy asks for 2 of 2 of witnesses (datatilsynet, rigsrevisionen))');
    expect(r.out).toContain(`not yet covered by the map (2): ${built.listed[4]} (entry 8), ${built.listed[5]} (not yet in the log)`);
    const k = await cli('verify-proof', path, '--key', built.vkey);
    expect(k.code, k.out + k.err).toBe(0);
    expect(k.out).toContain('none cosigned (the policy asks for no witness)');
    expect((await cli('--origin', 'sporbar.v1/another-log', 'verify-proof', path, '--key', built.vkey)).code).toBe(1);
  });

  it.each(['omit', 'extra', 'reorder'] as const)('the %s variant: exit 1, NOT PROVEN COMPLETE, and why', async (variant) => {
    const words = {
      omit: "1 disclosure that the log's map holds is not in the list (the map holds 4, the list 3)",
      extra: "the list holds 1 disclosure more than the log's map has (the list 5, the map 4)",
      reorder: "the list is not in the log's order: entry 0 comes after entry 2",
    }[variant];
    const r = await cli('verify-proof', file(`${variant}.json`, alteredBundles(built)[variant]), '--policy', policy);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toMatch(/^NOT PROVEN COMPLETE: /);
    expect(r.out).toContain(words);
  });

  it('a report.json copy: its disclosures are checked against the bundle too', async () => {
    const good = await cli('verify-proof', file('report.json', reportCopy(built.bundle, built.listed)), '--policy', policy);
    expect(good.code, good.out + good.err).toBe(0);
    expect(good.out).toContain('the report lists exactly these 6 disclosures');
    const stranger = built.disclosures.find((d) => d.pseudonym === B)!.eventId;
    const leftOut = await cli('verify-proof', file('report-extra.json', reportCopy(built.bundle, [...built.listed, stranger])), '--policy', policy);
    expect(leftOut.code).toBe(1);
    expect(leftOut.out).toContain(`NOT PROVEN COMPLETE: the report lists 1 disclosure that the map proof leaves out (in no chain and not pending): ${stranger}`);
    const missing = await cli('verify-proof', file('report-short.json', reportCopy(built.bundle, built.listed.slice(1))), '--policy', policy);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain(`NOT PROVEN COMPLETE: 1 disclosure the map proof holds is missing from the report: ${built.listed[0]}`);
    // The copy's own bundle altered: the bundle's check answers first.
    const { omit } = alteredBundles(built);
    const dropped = omit.subjects[0]!.leaves.length;
    expect(dropped).toBe(3);
    const bad = await cli('verify-proof', file('report-omit.json', reportCopy(omit, built.listed)), '--policy', policy);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('is not in the list');
    const none = await cli('verify-proof', file('report-no-map.json', { ...reportCopy(null, built.listed) }), '--policy', policy);
    expect(none.code).toBe(1);
    expect(none.out).toContain('holds no subject map proof');
  });

  it('an old map (older than the 6 h heartbeat + 1 h) exits 1 and says from when, unless --max-map-age 0; --max-map-age sets the limit', async () => {
    const HOUR = 3600_000;
    const committed = Date.now() - 8 * HOUR;
    const old = buildSubjectMapBundle({ covered: [A, B, A], after: [A], citizen: [A], committedAt: committed * 1000 });
    const oldPolicy = file('old-policy.txt', old.policy);
    const path = file('old.json', old.bundle);
    const when = new Date(committed).toISOString();
    const r = await cli('verify-proof', path, '--policy', oldPolicy);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toContain(`NOT PROVEN COMPLETE: the map is from ${when.slice(0, 10)} ${when.slice(11, 16)} UTC, older than the log's commitment cadence allows (at most 7 h; it is 8 h old): newer disclosures may be missing`);
    // In a report copy too.
    expect((await cli('verify-proof', file('old-report.json', reportCopy(old.bundle, old.listed)), '--policy', oldPolicy)).code).toBe(1);
    const unchecked = await cli('verify-proof', path, '--policy', oldPolicy, '--max-map-age', '0');
    expect(unchecked.code, unchecked.out + unchecked.err).toBe(0);
    expect(unchecked.out).toContain(`none missing, none added, complete as of ${when.slice(0, 10)} ${when.slice(11, 16)} UTC`);
    expect((await cli('verify-proof', path, '--policy', oldPolicy, '--max-map-age', String(9 * 3600))).code).toBe(0);
    // The fresh bundle against a stricter limit than its age (a second): still fine now; a minute-old one is not.
    expect((await cli('verify-proof', file('fresh.json', built.bundle), '--policy', policy, '--max-map-age', '3600')).code).toBe(0);
    const minuteOld = buildSubjectMapBundle({ covered: [A], citizen: [A], committedAt: (Date.now() - 120_000) * 1000 });
    expect((await cli('verify-proof', file('minute.json', minuteOld.bundle), '--key', minuteOld.vkey, '--max-map-age', '60')).code).toBe(1);
    expect((await cli('verify-proof', path, '--policy', oldPolicy, '--max-map-age', '-1')).code).toBe(2);
    expect((await cli('verify-proof', path, '--policy', oldPolicy, '--max-map-age', '1h')).code).toBe(2);
  });

  it('a bad log signature exits 1; a file that is none of the three exits 1; usage errors exit 2', async () => {
    const b = cloneBundle(built.bundle);
    b.checkpoint = b.checkpoint.replace(/^(\u2014 sporbar\.v1\/map-test )(\S)/m, (_m, p: string, c: string) => `${p}${c === 'A' ? 'B' : 'A'}`);
    const r = await cli('verify-proof', file('bad-sig.json', b), '--policy', policy);
    expect(r.code).toBe(1);
    expect(r.out).toContain('NOT PROVEN COMPLETE: ');
    const other = await cli('verify-proof', file('other.json', { hello: 'world' }), '--policy', policy);
    expect(other.code).toBe(1);
    expect(other.out).toContain('neither a subject map proof');
    expect((await cli('verify-proof', file('x.json', built.bundle))).code).toBe(2);
  });
});
