import { createHash } from 'node:crypto';
import pg from 'pg';
import { SporbarError } from '@sporbar/common/errors';

/**
 * One signer for the whole log, however many log-service instances run: the signer is whoever holds a
 * PostgreSQL session advisory lock, on a connection of its own. PostgreSQL releases a session lock when
 * the session ends, so a signer that dies (kill -9, a crash, a lost network) frees it for a standby,
 * which tries again every `retryMs`. Losing the connection means losing the lock: the instance stops
 * signing at once. Every signature is fenced too: `assertHeld()` asks PostgreSQL, on the lock's own
 * session, whether this session still holds it, just before the signer is called.
 */
export interface SignerLease {
  /** Starts trying to take the lock (now, then every `retryMs` while a standby). */
  start(): void;
  readonly isLeader: boolean;
  /** Throws unless this session holds the lock right now. */
  assertHeld(): Promise<void>;
  /** Releases the lock (if held) and closes the connection. */
  stop(): Promise<void>;
}

export interface SignerLeaseOptions {
  readonly connectionString: string;
  readonly lockKey: bigint;
  readonly retryMs: number;
  /** Called when this instance becomes the signer. */
  readonly onAcquired: () => void;
  /** Called when it stops being the signer (connection lost, stop()). */
  readonly onLost: (reason: string) => void;
  readonly onError?: (error: unknown) => void;
}

/** The advisory lock key of a log: 64 bits of SHA-256 over its origin, so two logs on one PostgreSQL never share a signer lock. */
export function signerLockKey(origin: string): bigint {
  return createHash('sha256').update(`sporbar log signer\n${origin}\n`).digest().readBigInt64BE(0);
}

/** pg_locks shows a bigint advisory key as classid (high 32 bits), objid (low 32 bits), objsubid 1. */
const lockParts = (key: bigint): [number, number] => {
  const u = BigInt.asUintN(64, key);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
};

export function createSignerLease(options: SignerLeaseOptions): SignerLease {
  const [classid, objid] = lockParts(options.lockKey);
  let client: pg.Client | undefined;
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> = Promise.resolve();

  const lose = (reason: string): void => {
    const c = client;
    client = undefined;
    c?.removeAllListeners('error');
    c?.on('error', () => undefined);
    void c?.end().catch(() => undefined);
    if (leader) {
      leader = false;
      options.onLost(reason);
    }
  };

  const attempt = async (): Promise<void> => {
    if (stopped) return;
    try {
      if (!client) {
        const c = new pg.Client({ connectionString: options.connectionString, keepAlive: true, connectionTimeoutMillis: 10_000, application_name: 'sporbar-log-signer-lock' });
        c.on('error', (err) => lose(`lock connection error: ${err.message}`));
        c.on('end', () => {
          if (client === c) lose('lock connection closed');
        });
        client = c;
        await c.connect();
      }
      const c = client;
      if (leader) {
        // Still alive? A dead session has lost the lock already; a failing query says so.
        await c.query('SELECT 1');
        return;
      }
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [options.lockKey.toString()]);
      if (rows[0]?.ok && client === c && !stopped) {
        leader = true;
        options.onAcquired();
      }
    } catch (err) {
      options.onError?.(err);
      lose(`lock connection failed: ${(err as Error).message}`);
    }
  };

  const loop = (): void => {
    if (stopped) return;
    busy = attempt().finally(() => {
      if (!stopped) timer = setTimeout(loop, options.retryMs);
    });
  };

  return {
    start() {
      stopped = false;
      loop();
    },
    get isLeader() {
      return leader;
    },
    async assertHeld() {
      const c = client;
      if (!leader || !c) throw new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'this log-service instance is not the signer (it does not hold the signer lock)');
      const { rows } = await c.query<{ held: boolean }>(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid = $1::oid AND objid = $2::oid AND objsubid = 1) AS held",
        [classid, objid],
      );
      if (!rows[0]?.held) {
        lose('the signer lock is no longer held');
        throw new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'this log-service instance lost the signer lock');
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await busy;
      const c = client;
      if (c && leader) await c.query('SELECT pg_advisory_unlock($1::bigint)', [options.lockKey.toString()]).catch(() => undefined);
      lose('stopped');
    },
  };
}
