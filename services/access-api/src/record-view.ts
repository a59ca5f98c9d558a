import type { FastifyRequest } from 'fastify';
import { VIEWER_ROLE } from './auth.ts';

/** Records that the principal of `request` looked at `subject`'s data (a ReportViewed event). */
export type RecordView = (request: FastifyRequest, subject: string, reason: string | null) => Promise<void>;

export interface ViewSink {
  recordReportViewed(input: { subject: { pseudonym: string }; viewerId: string; viewerRole: 'CITIZEN' | 'CASEWORKER' | 'DPO' | 'AUDITOR'; reason: string | null; view: string }): Promise<unknown>;
}

/**
 * The view is recorded before the data is sent: if recording fails, the request fails (503), so no
 * one sees a subject's data without a trace of it.
 */
export const recordViewWith =
  (sink: ViewSink): RecordView =>
  async (request, subject, reason) => {
    const p = request.principal!;
    await sink.recordReportViewed({ subject: { pseudonym: subject }, viewerId: p.id, viewerRole: VIEWER_ROLE[p.role], reason, view: `${request.method} ${request.routeOptions.url}` });
  };
