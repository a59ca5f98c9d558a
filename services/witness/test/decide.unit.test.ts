import { describe, expect, it } from 'vitest';
import { emptyRoot } from '@sporbar/auditor/merkle';
import type { Checkpoint } from '@sporbar/auditor/note';
import { decideAddCheckpoint, NEVER_SEEN, type KnownTree } from '../src/decide.ts';
import { createTestLog } from './support/test-log.ts';

// given (what the witness saw) · when (old size, proof, checkpoint) · then (the decision)
const log = createTestLog('sporbar.test/decide');
log.append(13);
const at = (size: number, root = log.root(size)): Checkpoint => ({ origin: log.origin, size, root, extensions: [] });
const seen = (size: number): KnownTree => ({ size, root: log.root(size) });

describe('decideAddCheckpoint', () => {
  it('cosigns the first checkpoint of a log from old size 0 with no proof', () => {
    expect(decideAddCheckpoint(0, [], at(7), NEVER_SEEN)).toEqual({ kind: 'cosign' });
  });

  it('cosigns growth with a valid RFC 9162 consistency proof, for every old size below the new one', () => {
    for (let m = 1; m < 13; m++) expect(decideAddCheckpoint(m, log.proof(m, 13), at(13), seen(m)), `from ${m}`).toEqual({ kind: 'cosign' });
  });

  it('cosigns the same checkpoint again (same size, same root, empty proof)', () => {
    expect(decideAddCheckpoint(7, [], at(7), seen(7))).toEqual({ kind: 'cosign' });
  });

  it('answers conflict with its own size when the old size is not the one it cosigned', () => {
    expect(decideAddCheckpoint(5, log.proof(5, 13), at(13), seen(7))).toEqual({ kind: 'conflict', size: 7 });
    expect(decideAddCheckpoint(0, [], at(13), seen(7))).toEqual({ kind: 'conflict', size: 7 });
    expect(decideAddCheckpoint(7, log.proof(7, 13), at(13), NEVER_SEEN)).toEqual({ kind: 'conflict', size: 0 });
  });

  it('refuses as a bad request an old size above the checkpoint size', () => {
    expect(decideAddCheckpoint(9, [], at(7), seen(9)).kind).toBe('bad-request');
  });

  it('refuses a fork: another root for the size it saw', () => {
    const fork = log.fork(4);
    expect(decideAddCheckpoint(7, [], at(7, fork.root(7)), seen(7))).toMatchObject({ kind: 'inconsistent', reason: expect.stringMatching(/forked/) });
  });

  it('refuses a rewritten history re-signed from the size it saw: the fork’s own proof does not lead from the root it saw', () => {
    const fork = log.fork(4);
    expect(decideAddCheckpoint(7, fork.proof(7, 13), at(13, fork.root(13)), seen(7)).kind).toBe('inconsistent');
    // Nor does the honest proof lead to the fork's root.
    expect(decideAddCheckpoint(7, log.proof(7, 13), at(13, fork.root(13)), seen(7)).kind).toBe('inconsistent');
  });

  it('refuses a proof that is not the one for these sizes, or is cut short', () => {
    expect(decideAddCheckpoint(7, log.proof(6, 13), at(13), seen(7)).kind).toBe('inconsistent');
    expect(decideAddCheckpoint(7, log.proof(7, 13).slice(1), at(13), seen(7)).kind).toBe('inconsistent');
    expect(decideAddCheckpoint(7, [], at(13), seen(7)).kind).toBe('inconsistent');
  });

  it('refuses a proof from size 0 and a proof between equal sizes', () => {
    expect(decideAddCheckpoint(0, log.proof(7, 13), at(13), NEVER_SEEN).kind).toBe('inconsistent');
    expect(decideAddCheckpoint(7, log.proof(6, 7), at(7), seen(7)).kind).toBe('inconsistent');
  });

  it('accepts a size-0 checkpoint only with the empty tree root', () => {
    expect(decideAddCheckpoint(0, [], at(0, emptyRoot()), NEVER_SEEN)).toEqual({ kind: 'cosign' });
    expect(decideAddCheckpoint(0, [], at(0, log.root(1)), NEVER_SEEN).kind).toBe('inconsistent');
  });
});
