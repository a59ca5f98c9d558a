import { createHash } from 'node:crypto';
import { checkCheckpointPolicy, type TlogPolicy } from './note/index.ts';

/**
 * What each witness of a policy says it cosigned of a log: `sporbar-audit verify --policy` asks every
 * witness that has a URL for its latest cosigned checkpoint (GET `<url>/<hex SHA-256 of the origin>/checkpoint`,
 * the witness's monitoring path) and checks, before the log is read, that the answer is a checkpoint
 * of this log signed by the log's key (the policy's `log` line) and cosigned by that witness's key.
 * Only such answers are compared with the log (verify.ts): a FORK when the log's tree of that size has
 * another root, a rollback when the log is shorter.
 */
export interface WitnessAnswer {
  readonly witness: string;
  readonly url: string;
  /** verified: a checkpoint signed by the log and cosigned by this witness; none: it cosigned nothing of this log (404); unreachable / bad: no usable answer. */
  readonly status: 'verified' | 'none' | 'unreachable' | 'bad';
  readonly treeSize?: number;
  readonly rootHash?: Buffer;
  /** The cosignature's time (ISO 8601). */
  readonly time?: string;
  readonly note?: string;
  readonly detail?: string;
}

export const originPath = (origin: string): string => createHash('sha256').update(origin, 'utf8').digest('hex');

export async function askWitnesses(policy: TlogPolicy, origin: string, options: { timeoutMs?: number } = {}): Promise<WitnessAnswer[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return Promise.all(
    policy.witnesses
      .filter((w) => w.url !== undefined)
      .map(async (w): Promise<WitnessAnswer> => {
        const base = w.url!.endsWith('/') ? w.url! : `${w.url!}/`;
        const url = new URL(`${originPath(origin)}/checkpoint`, base).toString();
        let status: number;
        let text: string;
        try {
          const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
          status = r.status;
          text = await r.text();
        } catch (err) {
          return { witness: w.name, url, status: 'unreachable', detail: (err as Error).message };
        }
        if (status === 404) return { witness: w.name, url, status: 'none', detail: 'the witness has cosigned no checkpoint of this log' };
        if (status !== 200) return { witness: w.name, url, status: 'unreachable', detail: `answered ${status}` };
        const check = checkCheckpointPolicy(text, policy, { origin });
        if (!check.checkpoint || (!check.ok && check.failure !== 'quorum')) return { witness: w.name, url, status: 'bad', note: text, detail: check.ok ? 'not a checkpoint' : check.reason };
        const mine = check.witnesses.find((c) => c.name === w.name);
        if (mine?.status !== 'cosigned') return { witness: w.name, url, status: 'bad', note: text, detail: mine?.reason ?? `the checkpoint it serves carries no cosignature of ${w.name}` };
        return { witness: w.name, url, status: 'verified', treeSize: check.checkpoint.size, rootHash: check.checkpoint.root, ...(mine.time ? { time: mine.time } : {}), note: text };
      }),
  );
}
