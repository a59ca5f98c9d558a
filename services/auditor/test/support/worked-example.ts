/**
 * The worked example of docs/auditing.md ("A worked example"), computed from the code: three fixed
 * DisclosureRecorded events encoded by the codec, their leaf hashes, the tree's nodes and root, and a
 * checkpoint signed with the RFC 8032 test 1 key (Ed25519 is deterministic, so the signature is too).
 * `worked-example.unit.test.ts` compares every value with the numbers printed in the document;
 * `npx tsx services/auditor/test/support/worked-example.ts` prints them.
 */
import { createCodec, type DisclosureRecorded } from '@sporbar/schemas';
import { checkpointBody, loadSigningKey, logOrigin, noteKeyId, signTreeHead } from '../../src/checkpoint/signed-tree-head.ts';
import { leafHash, nodeHash, rootFromLeafHashes } from '../../src/merkle/rfc9162.ts';
import { fixedDisclosure } from '../../../../schemas/test/fixtures.ts';

/** RFC 8032 section 7.1, TEST 1: the secret key (seed) and its public key. */
export const RFC8032_TEST1_SEED_HEX = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
export const RFC8032_TEST1_PUBLIC_HEX = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

/** The schemas' golden-bytes fixture (n = 0), then the same login a second and a third time. */
const disclosure = (n: number): DisclosureRecorded => ({
  ...fixedDisclosure(),
  eventId: `0f8fad5b-d9cb-469f-a165-7086772895${(0x0e + n).toString(16).padStart(2, '0')}`,
  occurredAt: 1_764_000_000_123_456 + n * 1_000_000,
  correlationId: `login-${42 + n}`,
});

/** Every value the document prints, by the name it prints it under (hex unless the name says otherwise). */
export function workedExample(): Record<string, string> {
  const codec = createCodec();
  const leaves = [0, 1, 2].map((n) => codec.encode('DisclosureRecorded', disclosure(n)));
  const [h0, h1, h2] = leaves.map((b) => leafHash(b)) as [Buffer, Buffer, Buffer];
  const n01 = nodeHash(h0, h1);
  const root = nodeHash(n01, h2);
  if (!root.equals(rootFromLeafHashes([h0, h1, h2]))) throw new Error('the worked example disagrees with rootFromLeafHashes');
  const key = loadSigningKey(Buffer.from(RFC8032_TEST1_SEED_HEX, 'hex').toString('base64url'));
  if (key.publicKeyRaw.toString('hex') !== RFC8032_TEST1_PUBLIC_HEX) throw new Error('not the RFC 8032 test 1 key');
  const origin = logOrigin('example');
  const head = { origin, treeSize: 3, rootHash: root };
  const checkpoint = signTreeHead(head, key);
  const signatureLine = checkpoint.split('\n').at(-2)!;
  const blob = Buffer.from(signatureLine.split(' ').at(-1)!, 'base64');
  return {
    'leaf 0 bytes': leaves[0]!.toString('hex'),
    'leaf 1 bytes': leaves[1]!.toString('hex'),
    'leaf 2 bytes': leaves[2]!.toString('hex'),
    'fingerprint': codec.fingerprintHex('DisclosureRecorded'),
    'leaf hash 0': h0.toString('hex'),
    'leaf hash 1': h1.toString('hex'),
    'leaf hash 2': h2.toString('hex'),
    'node 0-1': n01.toString('hex'),
    'root': root.toString('hex'),
    'root base64': root.toString('base64'),
    'origin': origin,
    'signing key seed': RFC8032_TEST1_SEED_HEX,
    'public key': key.publicKeyRaw.toString('hex'),
    'key hash': noteKeyId(origin, key.publicKeyRaw),
    'checkpoint body hex': Buffer.from(checkpointBody(head), 'utf8').toString('hex'),
    'signature': blob.subarray(4).toString('hex'),
    'signature line': signatureLine,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) for (const [k, v] of Object.entries(workedExample())) console.log(`${k}: ${v}`);
