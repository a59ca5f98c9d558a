import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, logOrigin, signTreeHead, verifierKeyString } from '../src/checkpoint/signed-tree-head.ts';
import { leafHash, rootFromLeafHashes } from '../src/merkle/rfc9162.ts';
import { checkCheckpointPolicy, createCosigner, formatPolicy, parsePolicy, PolicyError, quorumMet } from '../src/note/index.ts';

const origin = logOrigin('policy-test');
const log = generateSigningKey();
const logVkey = verifierKeyString(origin, log.publicKeyRaw);
const cosigners = ['x1.example', 'x2.example', 'x3.example', 'y1.example'].map((n) => createCosigner(n, generateKeyPairSync('ed25519').privateKey));
const [x1, x2, x3, y1] = cosigners as [ReturnType<typeof createCosigner>, ReturnType<typeof createCosigner>, ReturnType<typeof createCosigner>, ReturnType<typeof createCosigner>];

const root = rootFromLeafHashes([leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))]);
const signed = signTreeHead({ origin, treeSize: 2, rootHash: root }, log);
const text = signed.slice(0, signed.indexOf('\n\n') + 1);
const cosign = (note: string, ...by: Array<typeof x1>) => `${note}${by.map((c) => `${c.cosign(text, 1_700_000_000n)}\n`).join('')}`;

describe('C2SP tlog-policy: parsing', () => {
  it("reads the spec's example shape: two groups of witnesses, a quorum of both", () => {
    const policy = parsePolicy(`# example
log ${logVkey} https://log.example/
\t
witness X1 ${x1.vkey}
witness X2 ${x2.vkey} https://x2.example/
witness X3 ${x3.vkey}
group X-witnesses 2 X1 X2 X3
  witness Y1   ${y1.vkey}
group Y-witnesses any Y1
group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`);
    expect(policy.logs).toEqual([expect.objectContaining({ origin, url: 'https://log.example/' })]);
    expect(policy.witnesses.map((w) => w.name)).toEqual(['X1', 'X2', 'X3', 'Y1']);
    expect(policy.witnesses[1]!.url).toBe('https://x2.example/');
    expect(policy.groups).toEqual([
      { name: 'X-witnesses', threshold: 2, members: ['X1', 'X2', 'X3'] },
      { name: 'Y-witnesses', threshold: 1, members: ['Y1'] },
      { name: 'X-and-Y', threshold: 2, members: ['X-witnesses', 'Y-witnesses'] },
    ]);
    expect(quorumMet(policy, new Set(['X1', 'X3', 'Y1']))).toBe(true);
    expect(quorumMet(policy, new Set(['X1', 'Y1']))).toBe(false);
    expect(quorumMet(policy, new Set(['X1', 'X2', 'X3']))).toBe(false);
  });

  it.each([
    ['no quorum line', `log ${logVkey}\n`, /exactly one quorum line/],
    ['two quorum lines', `quorum none\nquorum none\n`, /line 2: a policy has exactly one quorum/],
    ['a name used before it is defined', `group g any W\nwitness W ${x1.vkey}\nquorum g\n`, /line 1: W is not a witness or group defined on an earlier line/],
    ['a member listed twice', `witness A ${x1.vkey}\nwitness B ${x2.vkey}\ngroup g 1 A A\nquorum g\n`, /line 3: A is already a member/],
    ['a member of two groups', `witness A ${x1.vkey}\ngroup g any A\ngroup h any A\nquorum h\n`, /line 3: A is already a member/],
    ['none as a member', `witness A ${x1.vkey}\ngroup g any A none\nquorum g\n`, /'none' cannot be a group member/],
    ['none redefined', `witness none ${x1.vkey}\nquorum none\n`, /'none' is predefined/],
    ['k above n', `witness A ${x1.vkey}\ngroup g 2 A\nquorum g\n`, /1 ≤ k ≤ 1, got 2/],
    ['k zero', `witness A ${x1.vkey}\ngroup g 0 A\nquorum g\n`, /got 0/],
    ['k with a leading zero', `witness A ${x1.vkey}\ngroup g 01 A\nquorum g\n`, /got 01/],
    ['a duplicate witness key under another name', `witness A ${x1.vkey}\nwitness B ${x1.vkey}\nquorum A\n`, /line 2: a witness with this public key is already listed/],
    ['a duplicate name', `witness A ${x1.vkey}\nwitness A ${x2.vkey}\nquorum A\n`, /line 2: the name A is already defined/],
    ['a duplicate log', `log ${logVkey}\nlog ${logVkey}\nquorum none\n`, /a log with this public key is already listed/],
    ['a log key given as a witness', `witness A ${logVkey}\nquorum A\n`, /signature type 0x01; a witness cosigns with cosignature\/v1/],
    ['a witness key given as a log', `log ${x1.vkey}\nquorum none\n`, /signature type 0x04; a log signs/],
    ['a control character', `quorum none\r\n`, /line 1: control character U\+000D/],
    ['an unknown keyword', `witnesses A ${x1.vkey}\nquorum none\n`, /unknown line "witnesses"/],
    ['a bad URL', `witness A ${x1.vkey} not-a-url\nquorum A\n`, /is not a URL/],
  ])('refuses %s', (_what, input, message) => {
    expect(() => parsePolicy(input)).toThrow(PolicyError);
    expect(() => parsePolicy(input)).toThrow(message);
  });

  it('formats the simple policies Sporbar writes, and reads them back', () => {
    const ws = [
      { name: 'datatilsynet', vkey: x1.vkey, url: 'http://127.0.0.1:1/' },
      { name: 'rigsrevisionen', vkey: x2.vkey },
    ];
    const all = parsePolicy(formatPolicy({ logs: [{ vkey: logVkey }], witnesses: ws }));
    expect(all.groups).toEqual([{ name: 'witnesses', threshold: 2, members: ['datatilsynet', 'rigsrevisionen'] }]);
    expect(parsePolicy(formatPolicy({ logs: [{ vkey: logVkey }], witnesses: ws, quorum: 1 })).groups[0]!.threshold).toBe(1);
    expect(parsePolicy(formatPolicy({ logs: [{ vkey: logVkey }], witnesses: [] })).quorum).toBe('none');
    expect(parsePolicy(formatPolicy({ logs: [{ vkey: logVkey }], witnesses: ws.slice(0, 1) })).quorum).toBe('datatilsynet');
  });
});

describe('C2SP tlog-policy: checking a cosigned checkpoint', () => {
  const policy = parsePolicy(formatPolicy({ logs: [{ vkey: logVkey }], witnesses: [{ name: 'X1', vkey: x1.vkey }, { name: 'X2', vkey: x2.vkey }, { name: 'X3', vkey: x3.vkey }], quorum: 2 }));

  it('accepts k of n valid cosignatures and names each witness', () => {
    const check = checkCheckpointPolicy(cosign(signed, x1, x3, y1), policy, { origin });
    expect(check.ok).toBe(true);
    expect(check.witnesses).toEqual([
      { name: 'X1', status: 'cosigned', time: '2023-11-14T22:13:20.000Z' },
      { name: 'X2', status: 'absent' },
      { name: 'X3', status: 'cosigned', time: '2023-11-14T22:13:20.000Z' },
    ]);
    if (check.ok) expect(check.checkpoint.size).toBe(2);
  });

  it('refuses fewer than k, counts an invalid cosignature as none and says why', () => {
    const forged = cosign(signed, x1).replace(/\n$/, '') + '\n' + x2.cosign(text.replace('\n2\n', '\n3\n'), 1_700_000_000n) + '\n';
    const check = checkCheckpointPolicy(forged, policy);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.failure).toBe('quorum');
    expect(check.reason).toMatch(/quorum \(2 of 3 of witnesses \(X1, X2, X3\)\) is not met: cosigned by X1/);
    expect(check.witnesses[1]).toMatchObject({ name: 'X2', status: 'invalid' });
  });

  it('refuses a checkpoint the log did not sign, or of another origin', () => {
    const other = generateSigningKey();
    const check = checkCheckpointPolicy(cosign(signTreeHead({ origin, treeSize: 2, rootHash: root }, other), x1, x2), policy);
    expect(check).toMatchObject({ ok: false, failure: 'log-signature', reason: 'the checkpoint is not signed by the log' });
    expect(checkCheckpointPolicy(signed, policy, { origin: logOrigin('other') })).toMatchObject({ ok: false, failure: 'log-signature' });
    expect(checkCheckpointPolicy('garbage\n', policy)).toMatchObject({ ok: false, failure: 'malformed' });
  });

  it('a policy with quorum none needs only the log', () => {
    expect(checkCheckpointPolicy(signed, parsePolicy(`log ${logVkey}\nquorum none\n`)).ok).toBe(true);
  });
});
