import { SporbarError, isSporbarError } from '@sporbar/common/errors';
import type { InclusionProofLike, InclusionProofsLike, LogCheckpointLike, LogServiceLike, SubjectMapProofsLike } from './routes.ts';

export interface LogClientOptions {
  /** The log service's base URL (`SPORBAR_LOG_URL`), e.g. `http://127.0.0.1:3200`. */
  readonly url: string;
  /** Each request's time limit, ms. Default 2000. */
  readonly timeoutMs?: number;
}

export interface LogClient extends LogServiceLike {
  latestCheckpoint(): Promise<LogCheckpointLike | undefined>;
  inclusionProof(eventId: string, treeSize?: number): Promise<InclusionProofLike>;
  inclusionProofs(eventIds: readonly string[], treeSize?: number): Promise<InclusionProofsLike>;
  subjectMapProofs(indexes: readonly string[]): Promise<SubjectMapProofsLike>;
}

const unavailable = (message: string, cause?: unknown): SporbarError => new SporbarError('SPB_ERR_LOG_UNAVAILABLE', message, cause === undefined ? {} : { cause });

/**
 * The log service over HTTP (Node's fetch, a timeout per request): what the access API mounts in
 * production, so its `/v1/log/*` routes and the citizen report's integrity section answer from the
 * one log service. A 400 or 404 of the service comes back as the same SporbarError (the API passes it
 * on); anything else — refused, timed out, a 5xx, a body that is not JSON — is SPB_ERR_LOG_UNAVAILABLE.
 */
export function createLogClient(options: LogClientOptions): LogClient {
  const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new SporbarError('SPB_ERR_CONFIG', `the log service URL must be http(s), got ${base.protocol}`);
  const timeoutMs = options.timeoutMs ?? 2000;

  async function call<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await fetch(new URL(path, base), {
        method: init.method ?? 'GET',
        signal: AbortSignal.timeout(timeoutMs),
        headers: init.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    } catch (err) {
      const what = (err as Error).name === 'TimeoutError' ? `did not answer within ${timeoutMs} ms` : 'cannot be reached';
      throw unavailable(`the log service ${what}`, err);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (err) {
      throw unavailable(`the log service answered ${response.status} without JSON`, err);
    }
    if (response.status === 400 || response.status === 404) {
      const e = body as { code?: unknown; message?: unknown };
      const code = response.status === 404 ? 'SPB_ERR_NOT_FOUND' : 'SPB_ERR_BAD_REQUEST';
      throw new SporbarError(code, typeof e.message === 'string' ? e.message : `the log service answered ${response.status}`);
    }
    if (response.status !== 200) throw unavailable(`the log service answered ${response.status}`);
    return { status: response.status, body: body as T };
  }

  return {
    async publicKey() {
      return (await call<{ publicKeyPem: string; keyId: string; verifierKey: string; origin: string; algorithm: string }>('v1/log/key')).body;
    },
    async latestCheckpoint() {
      try {
        return (await call<LogCheckpointLike>('v1/log/checkpoint')).body;
      } catch (err) {
        if (isSporbarError(err, 'SPB_ERR_NOT_FOUND')) return undefined; // no checkpoint yet
        throw err;
      }
    },
    async inclusionProof(eventId, treeSize) {
      const q = new URLSearchParams({ eventId, ...(treeSize === undefined ? {} : { treeSize: String(treeSize) }) });
      return (await call<InclusionProofLike>(`v1/log/proof/inclusion?${q}`)).body;
    },
    async inclusionProofs(eventIds, treeSize) {
      if (eventIds.length === 0) {
        const checkpoint = (await this.latestCheckpoint()) ?? null;
        return { checkpoint, treeSize: treeSize ?? checkpoint?.treeSize ?? null, proofs: [], pending: [] };
      }
      return (await call<InclusionProofsLike>('v1/log/proof/inclusions', { method: 'POST', body: { eventIds, ...(treeSize === undefined ? {} : { treeSize }) } })).body;
    },
    async subjectMapProofs(indexes) {
      return (await call<SubjectMapProofsLike>('v1/log/subject-map/proofs', { method: 'POST', body: { indexes } })).body;
    },
    async consistencyProof(from, to) {
      return (await call<{ from: number; to: number; fromRoot: string; toRoot: string; proof: string[] }>(`v1/log/proof/consistency?${new URLSearchParams({ from: String(from), to: String(to) })}`)).body;
    },
  };
}
