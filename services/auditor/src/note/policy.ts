import { parseCheckpointText, type Checkpoint } from './checkpoint.ts';
import { verifyCosignature } from './cosignature.ts';
import { ed25519NoteVerifier, keyIdHex, NoteError, openNote, parseNote, parseVkey, SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519, type VerifierKey } from './note.ts';

/**
 * C2SP tlog-policy (https://c2sp.org/tlog-policy), pure: which logs and witnesses one trusts and the
 * quorum of witnesses a checkpoint needs.
 *
 *   log <vkey> [<url>]                    a log; its vkey's name is its origin (Ed25519, type 0x01)
 *   witness <name> <vkey> [<url>]         a witness (cosignature/v1, type 0x04); url: its submission prefix
 *   group <name> all|any|<k> <name>...    witnessed when k of its n members witnessed (1 ≤ k ≤ n)
 *   quorum <name>|none                    exactly one; `none` requires no cosignature
 *
 * Lines are separated by newline, items by spaces and tabs; empty lines and `#` comments are ignored;
 * the only control characters allowed are tab and newline. A group or the quorum may name only
 * witnesses and groups defined on earlier lines, each name is a member at most once, `none` is never
 * a member, and two logs (or two witnesses) never wrap the same public key. Violations throw
 * PolicyError with the line number.
 */

export interface PolicyLog {
  readonly vkey: string;
  readonly key: VerifierKey;
  /** The log's origin: its vkey's key name. */
  readonly origin: string;
  readonly url?: string;
}

export interface PolicyWitness {
  readonly name: string;
  readonly vkey: string;
  readonly key: VerifierKey;
  /** Its tlog-witness submission prefix, when given. */
  readonly url?: string;
}

export interface PolicyGroup {
  readonly name: string;
  readonly threshold: number;
  readonly members: readonly string[];
}

export interface TlogPolicy {
  readonly logs: readonly PolicyLog[];
  /** In the order of the file. */
  readonly witnesses: readonly PolicyWitness[];
  readonly groups: readonly PolicyGroup[];
  /** A witness's or a group's name, or 'none'. */
  readonly quorum: string;
}

export class PolicyError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'PolicyError';
  }
}

/** Implementation limits: the spec recommends supporting at least 32 of each. */
export const POLICY_LIMITS = { logs: 256, witnesses: 256, groups: 256 } as const;

const NONE = 'none';

/** Parses a policy file (its bytes or text). Throws PolicyError. */
export function parsePolicy(input: string | Uint8Array): TlogPolicy {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f) {
      throw new PolicyError(`control character U+${c.toString(16).padStart(4, '0').toUpperCase()} (only tab and newline are allowed)`, lineOf(text, i));
    }
  }
  const logs: PolicyLog[] = [];
  const witnesses: PolicyWitness[] = [];
  const groups: PolicyGroup[] = [];
  /** Witness and group names (one namespace) → whether it is a group. */
  const names = new Map<string, 'witness' | 'group'>();
  const members = new Set<string>();
  const logKeys = new Set<string>();
  const witnessKeys = new Set<string>();
  let quorum: string | undefined;

  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [keyword, ...args] = line.split(/[ \t]+/);
    const fail = (message: string): never => {
      throw new PolicyError(message, n);
    };
    const vkeyOf = (s: string, type: number, what: string): VerifierKey => {
      let key: VerifierKey;
      try {
        key = parseVkey(s);
      } catch (err) {
        return fail(`the ${what} vkey is not valid: ${(err as Error).message}`);
      }
      if (key.type !== type) fail(`the ${what} vkey is of signature type 0x${key.type.toString(16).padStart(2, '0')}; ${what === 'log' ? 'a log signs checkpoints with Ed25519 (0x01)' : 'a witness cosigns with cosignature/v1 (0x04)'}`);
      return key;
    };
    const urlOf = (s: string | undefined): { url?: string } => {
      if (s === undefined) return {};
      try {
        new URL(s);
      } catch {
        fail(`${JSON.stringify(s)} is not a URL`);
      }
      return { url: s };
    };
    const newName = (name: string) => {
      if (name === NONE) fail(`'${NONE}' is predefined and cannot be defined`);
      if (names.has(name)) fail(`the name ${name} is already defined`);
    };
    switch (keyword) {
      case 'log': {
        if (args.length < 1 || args.length > 2) fail('a log line is: log <vkey> [<url>]');
        const key = vkeyOf(args[0]!, SIG_TYPE_ED25519, 'log');
        const raw = key.publicKey.toString('hex');
        if (logKeys.has(raw)) fail('a log with this public key is already listed');
        logKeys.add(raw);
        logs.push({ vkey: args[0]!, key, origin: key.name, ...urlOf(args[1]) });
        if (logs.length > POLICY_LIMITS.logs) fail(`more than ${POLICY_LIMITS.logs} logs`);
        return;
      }
      case 'witness': {
        if (args.length < 2 || args.length > 3) fail('a witness line is: witness <name> <vkey> [<url>]');
        const name = args[0]!;
        newName(name);
        const key = vkeyOf(args[1]!, SIG_TYPE_COSIGNATURE_V1, 'witness');
        const raw = key.publicKey.toString('hex');
        if (witnessKeys.has(raw)) fail('a witness with this public key is already listed');
        witnessKeys.add(raw);
        names.set(name, 'witness');
        witnesses.push({ name, vkey: args[1]!, key, ...urlOf(args[2]) });
        if (witnesses.length > POLICY_LIMITS.witnesses) fail(`more than ${POLICY_LIMITS.witnesses} witnesses`);
        return;
      }
      case 'group': {
        if (args.length < 3) fail('a group line is: group <name> all|any|<k> <name>...');
        const [name, k, ...list] = args as [string, string, ...string[]];
        newName(name);
        const seen = new Set<string>();
        for (const m of list) {
          if (m === NONE) fail(`'${NONE}' cannot be a group member`);
          if (!names.has(m)) fail(`${m} is not a witness or group defined on an earlier line`);
          if (seen.has(m) || members.has(m)) fail(`${m} is already a member of a group: each name is a member at most once`);
          seen.add(m);
        }
        let threshold: number;
        if (k === 'all') threshold = list.length;
        else if (k === 'any') threshold = 1;
        else if (/^[1-9][0-9]*$/.test(k) && Number(k) <= list.length) threshold = Number(k);
        else return fail(`the threshold must be all, any or a decimal k with 1 ≤ k ≤ ${list.length}, got ${k}`);
        for (const m of list) members.add(m);
        names.set(name, 'group');
        groups.push({ name, threshold, members: list });
        if (groups.length > POLICY_LIMITS.groups) fail(`more than ${POLICY_LIMITS.groups} groups`);
        return;
      }
      case 'quorum': {
        if (args.length !== 1) fail('a quorum line is: quorum <name>');
        if (quorum !== undefined) fail('a policy has exactly one quorum line');
        const name = args[0]!;
        if (name !== NONE && !names.has(name)) fail(`${name} is not a witness or group defined on an earlier line`);
        quorum = name;
        return;
      }
      default:
        fail(`unknown line ${JSON.stringify(keyword)}: expected log, witness, group or quorum`);
    }
  });
  if (quorum === undefined) throw new PolicyError('a policy has exactly one quorum line, this one none');
  return { logs, witnesses, groups, quorum };
}

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 0x0a) n++;
  return n;
}

/** A policy for one log and the given witnesses, all of which must cosign when `quorum` is omitted. */
export function formatPolicy(policy: { logs: ReadonlyArray<{ vkey: string; url?: string }>; witnesses: ReadonlyArray<{ name: string; vkey: string; url?: string }>; quorum?: number | 'none' }): string {
  const lines = [
    ...policy.logs.map((l) => `log ${l.vkey}${l.url ? ` ${l.url}` : ''}`),
    ...policy.witnesses.map((w) => `witness ${w.name} ${w.vkey}${w.url ? ` ${w.url}` : ''}`),
  ];
  const k = policy.quorum ?? policy.witnesses.length;
  if (k === 'none' || policy.witnesses.length === 0 || k === 0) lines.push('quorum none');
  else if (policy.witnesses.length === 1) lines.push(`quorum ${policy.witnesses[0]!.name}`);
  else lines.push(`group witnesses ${k} ${policy.witnesses.map((w) => w.name).join(' ')}`, 'quorum witnesses');
  return `${lines.join('\n')}\n`;
}

/** Whether the named witness or group witnessed, given the set of witnesses whose cosignature verified. */
export function quorumMet(policy: TlogPolicy, cosigned: ReadonlySet<string>, name: string = policy.quorum): boolean {
  if (name === NONE) return true;
  const group = policy.groups.find((g) => g.name === name);
  if (!group) return cosigned.has(name);
  let count = 0;
  for (const m of group.members) if (quorumMet(policy, cosigned, m)) count++;
  return count >= group.threshold;
}

/** A rule a human reads: "2 of 2 witnesses (datatilsynet, rigsrevisionen)". */
export function describeQuorum(policy: TlogPolicy, name: string = policy.quorum): string {
  if (name === NONE) return 'no witness';
  const group = policy.groups.find((g) => g.name === name);
  if (!group) return name;
  return `${group.threshold} of ${group.members.length} of ${group.name} (${group.members.map((m) => describeQuorum(policy, m)).join(', ')})`;
}

export interface WitnessCheck {
  readonly name: string;
  /** cosigned: a valid cosignature; absent: none by this witness; invalid: one that fails (with why). */
  readonly status: 'cosigned' | 'absent' | 'invalid';
  /** The cosignature's time (ISO 8601), when cosigned. */
  readonly time?: string;
  readonly reason?: string;
}

export type CheckpointPolicyCheck =
  | {
      readonly ok: true;
      readonly checkpoint: Checkpoint;
      /** The text the signatures cover. */
      readonly text: string;
      readonly witnesses: readonly WitnessCheck[];
      readonly quorum: string;
    }
  | {
      readonly ok: false;
      /** What failed first: the note's syntax, the log's signature, or the quorum. */
      readonly failure: 'malformed' | 'log-signature' | 'quorum';
      readonly reason: string;
      readonly checkpoint?: Checkpoint;
      readonly witnesses: readonly WitnessCheck[];
      readonly quorum: string;
    };

/**
 * Checks a cosigned checkpoint against a policy, as tlog-proof's verification steps 2–3 say: the
 * origin is a listed log's and that log's signature verifies; every cosignature of a listed witness is
 * verified (an invalid one counts as absent and is reported); the quorum is met. Signatures of keys
 * the policy does not list are ignored. `origin`, when given, must also be the checkpoint's.
 */
export function checkCheckpointPolicy(note: string | Uint8Array, policy: TlogPolicy, options: { origin?: string } = {}): CheckpointPolicyCheck {
  const quorum = describeQuorum(policy);
  let parsed;
  let checkpoint: Checkpoint;
  try {
    parsed = parseNote(note);
    checkpoint = parseCheckpointText(parsed.text);
  } catch (err) {
    return { ok: false, failure: 'malformed', reason: `not a checkpoint: ${(err as Error).message}`, witnesses: [], quorum };
  }
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    return { ok: false, failure: 'log-signature', reason: `the checkpoint is of log ${checkpoint.origin}, not ${options.origin}`, checkpoint, witnesses: [], quorum };
  }
  const logs = policy.logs.filter((l) => l.origin === checkpoint.origin);
  if (logs.length === 0) return { ok: false, failure: 'log-signature', reason: `the policy lists no log with origin ${checkpoint.origin}`, checkpoint, witnesses: [], quorum };
  try {
    openNote(parsed, logs.map((l) => ed25519NoteVerifier(l.key)));
  } catch (err) {
    const why = err instanceof NoteError && err.kind === 'unverified' ? 'the checkpoint is not signed by the log' : (err as Error).message;
    return { ok: false, failure: 'log-signature', reason: why, checkpoint, witnesses: [], quorum };
  }
  const witnesses: WitnessCheck[] = policy.witnesses.map((w) => {
    const lines = parsed.signatures.filter((s) => s.name === w.key.name && s.keyId === w.key.keyId);
    if (lines.length === 0) return { name: w.name, status: 'absent' };
    let failed: string | undefined;
    for (const sig of lines) {
      const check = verifyCosignature(w.key, parsed.text, sig);
      if (check.ok) return { name: w.name, status: 'cosigned', time: new Date(Number(check.timestamp) * 1000).toISOString() };
      failed = check.reason;
    }
    return { name: w.name, status: 'invalid', reason: `the cosignature by ${w.key.name}+${keyIdHex(w.key.keyId)} fails: ${failed}` };
  });
  const cosigned = new Set(witnesses.filter((w) => w.status === 'cosigned').map((w) => w.name));
  if (!quorumMet(policy, cosigned)) {
    const have = cosigned.size === 0 ? 'none' : [...cosigned].join(', ');
    return { ok: false, failure: 'quorum', reason: `the witness quorum (${quorum}) is not met: cosigned by ${have}`, checkpoint, witnesses, quorum };
  }
  return { ok: true, checkpoint, text: parsed.text, witnesses, quorum };
}
