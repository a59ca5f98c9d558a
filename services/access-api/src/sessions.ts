/**
 * Server-side sessions of the citizen page (signed in through OIDC, or the development sign-in).
 * The browser holds only a random 32-byte id in an HttpOnly cookie; the database keeps SHA-256(id)
 * → the principal (role, viewer id, pseudonyms: never a CPR number), when it ends and, for
 * RP-initiated logout, the ID token. A copy of the table gives an attacker no usable cookie.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from '@sporbar/projections';
import type { Principal, Role } from './auth.ts';

/**
 * One table beside the read models, not under their prefix: a read-model rebuild switches prefixes
 * and drops the old tables, which must not sign everybody out. Created like `read_model_active`.
 */
export const SESSIONS_TABLE = 'access_api_sessions';
const SESSIONS_DDL = `CREATE TABLE IF NOT EXISTS ${SESSIONS_TABLE} (
  id_hash    text        PRIMARY KEY,
  role       text        NOT NULL,
  viewer_id  text        NOT NULL,
  subjects   text        NOT NULL,
  expires_at timestamptz NOT NULL,
  id_token   text,
  created_at timestamptz NOT NULL DEFAULT now()
)`;

/** Two processes creating the table at once: the loser sees a unique violation or "already exists"; the table is there. */
const createdMeanwhile = (err: unknown): boolean => ['23505', '42P07', '42710'].includes((err as { code?: string }).code ?? '');

export interface SessionData {
  readonly role: Role;
  /** The principal's id: a citizen's pseudonym, or a staff member's token `sub`. Never a CPR number. */
  readonly viewerId: string;
  /** A citizen's pseudonyms (current key first); empty for staff. */
  readonly subjects: readonly string[];
  /** Epoch ms. */
  readonly expiresAt: number;
  /** The ID token, kept server-side for the issuer's end-session endpoint (id_token_hint). */
  readonly idToken?: string | undefined;
}

export interface SessionStore {
  /** Stores the session; returns the id for the cookie (base64url of 32 random bytes). */
  create(data: SessionData): Promise<string>;
  /** The session of a cookie's id, while it has not expired. */
  get(id: string, now?: number): Promise<SessionData | undefined>;
  /** Deletes it; returns what it was (for the ID token), if it existed. */
  delete(id: string): Promise<SessionData | undefined>;
}

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const sessionIdHash = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');

interface Row {
  role: string;
  viewer_id: string;
  subjects: string;
  expires_at: Date | string;
  id_token: string | null;
}

const fromRow = (r: Row): SessionData => ({
  role: r.role as Role,
  viewerId: r.viewer_id,
  subjects: JSON.parse(r.subjects) as string[],
  expiresAt: new Date(r.expires_at).getTime(),
  idToken: r.id_token ?? undefined,
});

/** Sessions in the read models' database (PostgreSQL or the embedded PGlite). */
export function sqlSessionStore(db: Sql): SessionStore {
  let ready: Promise<void> | undefined;
  const table = (): Promise<void> =>
    (ready ??= db
      .query(SESSIONS_DDL)
      .then(() => undefined)
      .catch((err: unknown) => {
        if (createdMeanwhile(err)) return;
        ready = undefined;
        throw err;
      }));
  return {
    async create(data) {
      await table();
      const id = randomBytes(32).toString('base64url');
      // Ended sessions go when new ones come: the table holds at most the live ones and a few.
      await db.query(`DELETE FROM ${SESSIONS_TABLE} WHERE expires_at < now()`);
      await db.query(`INSERT INTO ${SESSIONS_TABLE} (id_hash, role, viewer_id, subjects, expires_at, id_token) VALUES ($1, $2, $3, $4, $5, $6)`, [
        sessionIdHash(id),
        data.role,
        data.viewerId,
        JSON.stringify(data.subjects),
        new Date(data.expiresAt).toISOString(),
        data.idToken ?? null,
      ]);
      return id;
    },
    async get(id, now = Date.now()) {
      if (!SESSION_ID_PATTERN.test(id)) return undefined;
      await table();
      const { rows } = await db.query<Row>(`SELECT role, viewer_id, subjects, expires_at, id_token FROM ${SESSIONS_TABLE} WHERE id_hash = $1`, [sessionIdHash(id)]);
      const s = rows[0] ? fromRow(rows[0]) : undefined;
      return s && s.expiresAt > now ? s : undefined;
    },
    async delete(id) {
      if (!SESSION_ID_PATTERN.test(id)) return undefined;
      await table();
      const { rows } = await db.query<Row>(`DELETE FROM ${SESSIONS_TABLE} WHERE id_hash = $1 RETURNING role, viewer_id, subjects, expires_at, id_token`, [sessionIdHash(id)]);
      return rows[0] ? fromRow(rows[0]) : undefined;
    },
  };
}

export const principalOfSession = (s: SessionData): Principal =>
  Object.freeze({ id: s.viewerId, role: s.role, subject: s.subjects[0] ?? null, subjects: Object.freeze([...s.subjects]) });

// ---- cookies (pure) ----

/**
 * `__Host-`: the browser accepts it only with Secure, Path=/ and no Domain, from a secure origin
 * (https, or loopback such as http://127.0.0.1, which Chromium treats as secure): no other host or
 * subdomain can set or shadow it.
 */
export const SESSION_COOKIE = '__Host-sporbar-session';
/** The sign-in flow's PKCE verifier, state and nonce, for 10 minutes. */
export const FLOW_COOKIE = '__Host-sporbar-signin';
export const FLOW_MAX_AGE_SECONDS = 600;

/** A Set-Cookie value: HttpOnly, Secure, SameSite=Lax, Path=/, and Max-Age (0 clears it). */
export function setCookie(name: string, value: string, maxAgeSeconds: number): string {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) throw new RangeError('cookie values here are base64url');
  return `${name}=${value}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; Path=/; HttpOnly; Secure; SameSite=Lax`;
}

/** The value of one cookie of a Cookie header, or undefined (the first one when it appears twice). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
