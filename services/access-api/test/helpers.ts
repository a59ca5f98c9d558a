import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { register } from '@sporbar/schemas';
import { createPseudonymiser } from '@sporbar/key-store';
import { buildApp, devPublicKey, type AppOptions, type ViewSink } from '../src/index.ts';

export const ME = '150377-2814';
export const OTHER = '020202-4242';
export const pseudonymiser = createPseudonymiser({ id: 'k1', secret: 'bench-and-test-only-pseudonym-key-0123456789' });

/** A promise settled from outside. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

type ViewInput = Parameters<ViewSink['recordReportViewed']>[0];

/** Everything that happened, in order: views handed over and queries run. */
export interface Trace {
  readonly events: string[];
  readonly views: ViewInput[];
  readonly queries: Array<{ text: string; params: unknown[] }>;
}

/** A read-model row of rm_subject_disclosures as the query selects it. */
export const row = (subject: string, n: number) => ({
  subject,
  activity: 'mitid-core',
  recipient_id: 'nets-danid',
  recipient_role: 'PROCESSOR',
  purpose: 'mitid-issuance',
  legal_bases: ['GDPR_ART6_1_E'],
  data_categories: ['name', 'cpr-number'],
  transfer_country: null,
  transfer_safeguard: null,
  classification: 'declared',
  reasons: [],
  position: String(100 + n),
  details: null,
  occurred_at: new Date(Date.UTC(2026, 8, 10 + n)),
  event_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
});

/**
 * The app over a fake database (a disclosures query answers two rows of the first subject asked for,
 * any other query nothing) and a
 * view sink whose behaviour each test chooses; logs are captured as parsed lines.
 */
export async function testApp(sink: (input: ViewInput) => Promise<unknown>, options: Partial<AppOptions> = {}) {
  const trace: Trace = { events: [], views: [], queries: [] };
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  const db = {
    async query(text: string, params: unknown[] = []) {
      trace.events.push('query');
      trace.queries.push({ text, params });
      if (!text.includes('subject_disclosures')) return { rows: [] as never[] };
      const subjects = params[0] as string[] | string;
      const subject = Array.isArray(subjects) ? subjects[0]! : subjects;
      return { rows: [row(subject, 2), row(subject, 1)] as never[] };
    },
  };
  const views: ViewSink = {
    recordReportViewed(input) {
      trace.events.push('view');
      trace.views.push(input);
      return sink(input);
    },
  };
  const app: FastifyInstance = await buildApp({
    readModels: { db, prefix: () => 'rm_' },
    register,
    pseudonymiser,
    views,
    jwtPublicKey: devPublicKey(),
    production: false,
    logger,
    ...options,
  });
  return { app, trace, logs };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The value of one Prometheus sample in /metrics (0 when absent). */
export async function metric(app: FastifyInstance, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',');
    if (want.every((w) => have.includes(w))) total += Number(m[3]);
  }
  return total;
}

export const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));
