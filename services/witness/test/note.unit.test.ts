import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519NoteVerifier, formatVkey, keyIdHex, keyIdOf, NoteError, openNote, parseNote, parseVkey, SIG_TYPE_ED25519 } from '@sporbar/auditor/note';
import { rawKey, signNote } from './support/test-log.ts';

// golang.org/x/mod/sumdb/note's own test vectors (note_test.go, Debian's golang-golang-x-mod-dev).
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

// c2sp.org/signed-note's example.
const C2SP_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const C2SP_NOTE = 'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

const kind = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof NoteError) return err.kind;
    throw err;
  }
  return 'ok';
};

describe('verifier keys', () => {
  it('parses the x/mod and C2SP vkeys and recomputes their key IDs as SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]', () => {
    const peter = parseVkey(PETER_VKEY);
    expect(peter).toMatchObject({ name: 'PeterNeumann', type: SIG_TYPE_ED25519 });
    expect(keyIdHex(peter.keyId)).toBe('c74f20a3');
    expect(keyIdHex(parseVkey(C2SP_VKEY).keyId)).toBe('530d903a');
    expect(formatVkey('PeterNeumann', 0x01, peter.publicKey)).toBe(PETER_VKEY);
  });

  it('refuses a vkey whose key ID, length, name or encoding is wrong (x/mod badKey cases and more)', () => {
    expect(kind(() => parseVkey('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toBe('malformed');
    expect(kind(() => parseVkey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='))).toBe('malformed');
    expect(kind(() => parseVkey('Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toBe('malformed');
    expect(kind(() => parseVkey('PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toBe('malformed');
    expect(kind(() => parseVkey('PeterNeumann+c74f20a3'))).toBe('malformed');
    for (const space of ['\u00a0', '\u0085', '\u2003', '\u3000']) expect(kind(() => formatVkey(`Peter${space}Neumann`, 0x01, Buffer.alloc(32)))).toBe('malformed');
    // Every truncation of the key fails, as in x/mod's TestNewVerifier.
    for (let i = PETER_VKEY.length - 1; i > 0; i--) expect(kind(() => ed25519NoteVerifier(PETER_VKEY.slice(0, i)))).toBe('malformed');
    // An unknown algorithm with a matching key ID parses as a vkey but is no Ed25519 verifier.
    expect(parseVkey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW').type).toBe(0x65);
    expect(kind(() => ed25519NoteVerifier('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toBe('malformed');
  });
});

describe('signing (x/mod TestSign)', () => {
  it("signs the x/mod text to exactly x/mod's signature with the key of its PRIVATE+KEY string", () => {
    // PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>: the key data is everything after the fourth '+'.
    const seed = Buffer.from(PETER_SKEY.split('+').slice(4).join('+'), 'base64').subarray(1);
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    expect(signNote(TEXT, 'PeterNeumann', key)).toBe(`${TEXT}\n${PETER_SIG}`);
    expect(formatVkey('PeterNeumann', 0x01, rawKey(key))).toBe(PETER_VKEY);
  });
});

describe('opening notes (x/mod TestOpen, c2sp.org/signed-note)', () => {
  const peter = ed25519NoteVerifier(PETER_VKEY);
  const enoch = ed25519NoteVerifier(ENOCH_VKEY);

  it("verifies the C2SP example note with the spec's vkey", () => {
    const opened = openNote(C2SP_NOTE, [ed25519NoteVerifier(C2SP_VKEY)]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.verified).toHaveLength(1);
  });

  it('verifies signatures from trusted keys and ignores the others', () => {
    const one = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter]);
    expect(one.text).toBe(TEXT);
    expect(one.verified.map((s) => s.name)).toEqual(['PeterNeumann']);
    expect(one.unverified.map((s) => [s.name, keyIdHex(s.keyId)])).toEqual([['EnochRoot', 'af0cfe78']]);
    const both = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter, enoch]);
    expect(both.verified.map((s) => s.name)).toEqual(['PeterNeumann', 'EnochRoot']);
    expect(both.unverified).toEqual([]);
  });

  it('refuses a note with no trusted signature, and one whose trusted signature fails', () => {
    expect(kind(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, []))).toBe('unverified');
    expect(kind(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [peter]))).toBe('unverified');
    expect(kind(() => openNote(`${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`, [peter]))).toBe('invalid-signature');
    // The text changed under the signature.
    expect(kind(() => openNote(`${TEXT.replace('answer', 'Answer')}\n${PETER_SIG}`, [peter]))).toBe('invalid-signature');
  });

  it('ignores a signature that shares the name but not the key ID of a trusted key (and the other way round)', () => {
    const other = generateKeyPairSync('ed25519').privateKey;
    const impostor = signNote(TEXT, 'PeterNeumann', other).split('\n\n')[1]!;
    expect(kind(() => openNote(`${TEXT}\n${impostor}`, [peter]))).toBe('unverified');
    const opened = openNote(`${TEXT}\n${impostor}${PETER_SIG}`, [peter]);
    expect(opened.verified).toHaveLength(1);
    expect(opened.unverified).toHaveLength(1);
    // A trusted key ID under another name is another key too.
    const renamed = PETER_SIG.replace('PeterNeumann', 'PeterNeuman');
    expect(kind(() => openNote(`${TEXT}\n${renamed}`, [peter]))).toBe('unverified');
  });

  it('refuses the malformed notes of x/mod (and more than 100 signatures)', () => {
    const bad = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\x01${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n${PETER_SIG.repeat(101)}`,
      `${TEXT}\n— PeterNeumann x08g\n`,
      `${TEXT}\n— Peter+Neumann ${PETER_SIG.split(' ')[2]}`,
      `${TEXT}\r\n${PETER_SIG}`,
    ];
    for (const note of bad) expect(kind(() => openNote(note, [peter])), JSON.stringify(note.slice(-40))).toBe('malformed');
    expect(kind(() => parseNote(Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)])))).toBe('malformed');
  });

  it('takes the last empty line as the separator: the text may hold empty lines', () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const text = 'first\n\nthird\n';
    const note = signNote(text, 'example.com/k', key);
    const v = ed25519NoteVerifier(formatVkey('example.com/k', 0x01, rawKey(key)));
    expect(openNote(note, [v]).text).toBe(text);
    expect(parseNote(note).signatures[0]!.keyId).toBe(keyIdOf('example.com/k', 0x01, rawKey(key)));
  });

  it('counts a repeated valid line once', () => {
    expect(openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}`, [peter]).verified).toHaveLength(1);
  });
});
