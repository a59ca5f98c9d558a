// Health and readiness checks every service answers with (its HTTP side lives in the service): no I/O here.

/** One check's outcome: whether it passed, and what to show (never a secret nor a connection string). */
export interface OpsCheck {
  readonly ok: boolean;
  readonly detail?: Readonly<Record<string, string>>;
}

/**
 * A dependency probe: `ok`, `timeout` after `ms`, or `unreachable (<code>)` — the error's code or class
 * only, never its message (a database's message may quote a connection string or a value).
 */
export async function probe(what: () => Promise<unknown>, ms = 2000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = Symbol('timeout');
  try {
    const r = await Promise.race([what(), new Promise((resolve) => (timer = setTimeout(() => resolve(timedOut), ms)))]);
    return r === timedOut ? 'timeout' : 'ok';
  } catch (err) {
    const e = err as { code?: unknown; name?: unknown };
    return `unreachable (${typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'error'})`;
  } finally {
    clearTimeout(timer);
  }
}

/** Several probes at once: ready when every one answers `ok`; each named in the detail. */
export async function readiness(probes: Readonly<Record<string, () => Promise<string>>>): Promise<OpsCheck> {
  const entries = await Promise.all(Object.entries(probes).map(async ([name, p]) => [name, await p()] as const));
  return { ok: entries.every(([, v]) => v === 'ok'), detail: Object.fromEntries(entries) };
}

/** The JSON body and status of a /health or /ready answer. */
export const checkAnswer = (check: OpsCheck, okStatus: 'ok' | 'ready'): { status: number; body: Record<string, unknown> } => ({
  status: check.ok ? 200 : 503,
  body: { status: check.ok ? okStatus : okStatus === 'ok' ? 'unhealthy' : 'not ready', ...(check.detail ? { checks: check.detail } : {}) },
});
