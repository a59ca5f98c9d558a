import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for the integration tests: DATABASE_URL, else postgres@127.0.0.1:5432/test (then root@).
 * Unreachable: skip with a reason on a laptop, but under CI=true throw, so a missing database can
 * never turn the suite green by skipping it.
 */
export interface PostgresProbe {
  readonly url?: string;
  readonly skip?: string;
}

const candidates = (): string[] =>
  process.env.DATABASE_URL
    ? [process.env.DATABASE_URL]
    : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];

export async function probePostgres(): Promise<PostgresProbe> {
  const errors: string[] = [];
  for (const url of candidates()) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { url };
    } catch (err) {
      errors.push(`${redact(url)}: ${(err as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const reason = `PostgreSQL unreachable (${errors.join('; ')})`;
  if (process.env.CI === 'true') throw new Error(`${reason} - under CI=true the PostgreSQL tests must run, not skip.`);
  return { skip: reason };
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@]*@/, '//$1:***@');

export const withDatabase = (url: string, database: string): string => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** CREATE DATABASE sporbar_test_<random>; returns its name and URL. */
export async function createTestDatabase(url: string): Promise<{ name: string; url: string }> {
  const name = `sporbar_test_${randomBytes(6).toString('hex')}`;
  await admin(url, (c) => c.query(`CREATE DATABASE ${name}`));
  return { name, url: withDatabase(url, name) };
}

export async function dropTestDatabase(url: string, name: string): Promise<void> {
  await admin(url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  return admin(url, async (c) => (await c.query<R>(text, params)).rows);
}

export const randomSchema = (): string => `t_${randomBytes(5).toString('hex')}`;
