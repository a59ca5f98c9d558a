import type { FastifyPluginAsync } from 'fastify';
import { disclosuresPage } from '@sporbar/projections';
import { SporbarError } from '@sporbar/common/errors';
import type { ProcessingRegister, RegisterFiles } from '@sporbar/schemas';
import { withJudgedByText } from '../judged-by.ts';
import type { Pseudonymiser, SubjectKeyStore } from '@sporbar/key-store';
import { withDetails } from '../details.ts';
import { requireRole } from '../auth.ts';
import { art15Report, disclosureReport, type ReadModels } from '../read-models.ts';
import type { RecordView } from '../record-view.ts';
import { disclosureItem, disclosureQuery, disclosureReportSchema, pageOf, PSEUDONYM } from '../schemas.ts';

export interface CaseworkerRoutesOptions {
  readonly readModels: ReadModels;
  readonly register: ProcessingRegister;
  /** Names the notice version each disclosure was judged by. */
  readonly registerFiles: RegisterFiles;
  readonly recordView: RecordView;
  readonly pseudonymiser: Pseudonymiser;
  readonly subjectKeys?: SubjectKeyStore;
}

/** A case number: the stated reason every caseworker view must carry (never a CPR number: it goes into ReportViewed). */
const REASON = { type: 'string', minLength: 3, maxLength: 80, pattern: '^[A-Za-z0-9][A-Za-z0-9 ./_:-]*$', format: 'sporbar-no-cpr' } as const;
const refParams = { type: 'object', required: ['ref'], properties: { ref: { type: 'string', pattern: PSEUDONYM } } } as const;

/** Caseworkers (and auditors) look at one subject, with a stated reason; each view is recorded. */
export const caseworkerRoutes: FastifyPluginAsync<CaseworkerRoutesOptions> = async (app, { readModels, register, registerFiles, recordView, pseudonymiser, subjectKeys }) => {
  const guard = requireRole('caseworker', 'auditor');

  app.post<{ Body: { cpr: string } }>(
    '/v1/subjects/lookup',
    {
      preHandler: guard,
      schema: {
        tags: ['caseworker'],
        security: [{ bearer: [] }],
        description: 'The subject reference (pseudonym) of a CPR number. The CPR number travels in the body, never in a URL or a log line.',
        body: { type: 'object', required: ['cpr'], additionalProperties: false, properties: { cpr: { type: 'string', maxLength: 11 } } },
        response: { 200: { type: 'object', required: ['ref'], properties: { ref: { type: 'string' } } } },
      },
    },
    async (request) => {
      try {
        return { ref: pseudonymiser.pseudonym(request.body.cpr) };
      } catch {
        throw new SporbarError('SPB_ERR_BAD_REQUEST', 'cpr: expected a CPR number DDMMYY-SSSS', { details: { field: 'cpr' } });
      }
    },
  );

  app.get<{ Params: { ref: string }; Querystring: { reason: string } }>(
    '/v1/subjects/:ref/disclosures',
    {
      preHandler: guard,
      schema: {
        tags: ['caseworker'],
        security: [{ bearer: [] }],
        params: refParams,
        querystring: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: REASON } },
        response: { 200: disclosureReportSchema },
      },
    },
    async (request) => {
      await recordView(request, request.params.ref, request.query.reason);
      return disclosureReport(readModels, register, request.params.ref);
    },
  );

  app.get<{ Params: { ref: string }; Querystring: { reason: string; from?: string; to?: string; recipient?: string; purpose?: string; cursor?: string; limit: number } }>(
    '/v1/subjects/:ref/timeline',
    {
      preHandler: guard,
      schema: {
        tags: ['caseworker'],
        security: [{ bearer: [] }],
        params: refParams,
        querystring: { ...disclosureQuery, required: ['reason'], properties: { ...disclosureQuery.properties, reason: REASON } },
        response: { 200: pageOf(disclosureItem) },
      },
    },
    async (request) => {
      const { reason, ...filter } = request.query;
      await recordView(request, request.params.ref, reason);
      const page = await disclosuresPage(readModels.db, request.params.ref, filter, readModels.prefix());
      return { ...page, items: await withDetails(subjectKeys, request.params.ref, withJudgedByText(page.items, registerFiles)) };
    },
  );

  app.get<{ Params: { ref: string }; Querystring: { reason: string } }>(
    '/v1/subjects/:ref/report',
    {
      preHandler: guard,
      schema: { tags: ['caseworker'], security: [{ bearer: [] }], params: refParams, querystring: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: REASON } } },
    },
    async (request) => {
      await recordView(request, request.params.ref, request.query.reason);
      return art15Report(readModels, register, request.params.ref);
    },
  );
};
