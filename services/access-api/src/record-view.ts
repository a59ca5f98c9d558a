import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { SporbarError, isSporbarError } from '@sporbar/common/errors';
import { VIEWER_ROLE, type Principal } from './auth.ts';

/** Records that the principal of `request` looked at `subject`'s data (a ReportViewed event). */
export type RecordView = ((request: FastifyRequest, subject: string, reason: string | null) => Promise<void>) & {
  /** Views handed over but not yet accepted by the producer (self-views recorded off the critical path). */
  readonly pending: () => number;
  /** Resolves when every view handed over so far is accepted or has failed (logged and counted). */
  readonly drain: () => Promise<void>;
};

export interface ViewSink {
  recordReportViewed(input: { subject: { pseudonym: string }; viewerId: string; viewerRole: 'CITIZEN' | 'CASEWORKER' | 'DPO' | 'AUDITOR'; reason: string | null; view: string }): Promise<unknown>;
}

/**
 * How a citizen's look at their own data is recorded:
 * - 'async' (default): handed to the producer before the data is read, not awaited (see below);
 * - 'sync': awaited like everyone else's, failing the request (503) if it cannot be recorded.
 */
export type SelfViewMode = 'async' | 'sync';

export interface RecordViewOptions {
  readonly selfViews?: SelfViewMode;
  /**
   * Self-views handed over and not yet accepted, at most; beyond it a self-view is awaited (and
   * fails closed) like any other, so a stalled producer slows citizens down instead of piling up
   * unbounded promises. Default 10,000.
   */
  readonly maxPendingSelfViews?: number;
  /** Where failures are logged (never the subject: the log line carries viewer role and error only). */
  readonly log?: FastifyBaseLogger;
  /** The app's /metrics registry. */
  readonly metrics?: Registry;
}

const isSelfView = (p: Principal, subject: string): boolean => p.role === 'citizen' && p.subjects.includes(subject);

/**
 * Every view of a subject's data is recorded as a ReportViewed event, before the data is read.
 *
 * Someone else's data (a caseworker, DPO or auditor looking at a subject, always with a stated
 * reason): the view is awaited until the producer accepted it (Kafka acknowledged it or it is
 * fsync'd into the producer's durable spool). If it cannot be recorded the request fails with 503
 * and no data is sent — no one sees another person's data without a trace of it (fail closed).
 *
 * A citizen's own data (the subject is the caller: nothing is disclosed to anyone else): the view is
 * still recorded — handed to the producer before the query runs — but the answer does not wait for
 * Kafka's acknowledgement. A failure is never silent: it is logged at error level and counted in
 * sporbar_api_view_record_failures_total{mode="async"}; and from then on self-views are awaited and
 * fail closed like the others until a view is accepted again, so an outage costs at most the views
 * already in flight, not every view while it lasts. sporbar_api_views_pending shows what is in flight,
 * and closing the app waits for it (graceful shutdown loses nothing). What this gives up: a process
 * crash within the few milliseconds between hand-over and acceptance can lose the record of a citizen
 * having looked at their own data. `selfViews: 'sync'` restores the strict behaviour.
 */
export function recordViewWith(sink: ViewSink, options: RecordViewOptions = {}): RecordView {
  const mode = options.selfViews ?? 'async';
  const maxPending = options.maxPendingSelfViews ?? 10_000;
  const registers = options.metrics ? [options.metrics] : [];
  const recorded = new Counter({ name: 'sporbar_api_views_recorded_total', help: 'ReportViewed events accepted by the producer, by viewer role and mode (sync: awaited before answering; async: a citizen’s own view).', labelNames: ['role', 'mode'] as const, registers });
  const failed = new Counter({ name: 'sporbar_api_view_record_failures_total', help: 'ReportViewed events that could not be recorded, by viewer role and mode (sync: the request failed with 503; async: logged, the answer was not held back).', labelNames: ['role', 'mode'] as const, registers });
  const inFlight = new Set<Promise<void>>();
  /** Set by a self-view that failed, cleared by the next view accepted: while set, self-views are awaited too. */
  let failing = false;
  new Gauge({
    name: 'sporbar_api_views_pending',
    help: 'Self-views handed to the producer and not yet accepted.',
    registers,
    collect() {
      this.set(inFlight.size);
    },
  });

  const input = (request: FastifyRequest, subject: string, reason: string | null) => {
    const p = request.principal!;
    return { subject: { pseudonym: subject }, viewerId: p.id, viewerRole: VIEWER_ROLE[p.role], reason, view: `${request.method} ${request.routeOptions.url}` };
  };

  async function recordNow(request: FastifyRequest, subject: string, reason: string | null): Promise<void> {
    const role = request.principal!.role;
    try {
      await sink.recordReportViewed(input(request, subject, reason));
      recorded.inc({ role, mode: 'sync' });
      failing = false;
    } catch (e) {
      failed.inc({ role, mode: 'sync' });
      (options.log ?? request.log).error({ err: { message: (e as Error).message, code: (e as { code?: string }).code }, viewerRole: role }, 'view could not be recorded: request refused');
      // 503 keeps its code; a refusal of the input itself (a CPR number or a control character in the
      // stated reason: the producer's text rules) is the caller's 400 naming the field, not a retry-later.
      if (isSporbarError(e) && (e.statusCode === 503 || (e.statusCode >= 400 && e.statusCode < 500))) throw e;
      throw new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'this view could not be recorded, so the data is not shown; retry later', { cause: e });
    }
  }

  const recordView = async (request: FastifyRequest, subject: string, reason: string | null): Promise<void> => {
    const p = request.principal!;
    if (mode === 'sync' || failing || !isSelfView(p, subject) || inFlight.size >= maxPending) return recordNow(request, subject, reason);
    const log = options.log ?? request.log;
    let handedOver: Promise<unknown>;
    try {
      handedOver = sink.recordReportViewed(input(request, subject, reason));
    } catch (e) {
      handedOver = Promise.reject(e);
    }
    const tracked: Promise<void> = handedOver.then(
      () => {
        recorded.inc({ role: p.role, mode: 'async' });
        failing = false;
      },
      (e: unknown) => {
        failed.inc({ role: p.role, mode: 'async' });
        // A refused input (4xx) says nothing about the producer's health: self-views stay asynchronous.
        if (!(isSporbarError(e) && e.statusCode >= 400 && e.statusCode < 500)) failing = true;
        log.error({ err: { message: (e as Error).message, code: (e as { code?: string }).code }, viewerRole: p.role }, 'a citizen’s view of their own data could not be recorded');
      },
    );
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
  };

  return Object.assign(recordView, {
    pending: () => inFlight.size,
    drain: async () => {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  });
}
