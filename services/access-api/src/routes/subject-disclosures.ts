import type { FastifyPluginAsync } from 'fastify';
import { recipientSummaries, type Sql } from '@sporbar/projections';
import type { ProcessingRegister } from '@sporbar/schemas';
import { buildDisclosureReport } from '../report.ts';

const named = { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } } as const;
const namedList = { type: 'array', items: named } as const;

export const disclosureReportSchema = {
  type: 'object',
  required: ['subject', 'totalDisclosures', 'recipients'],
  properties: {
    subject: { type: 'string' },
    totalDisclosures: { type: 'integer' },
    recipients: {
      type: 'array',
      items: {
        type: 'object',
        required: ['recipient', 'activities', 'purposes', 'legalBases', 'dataCategories', 'disclosures', 'undeclared', 'firstAt', 'lastAt'],
        properties: {
          recipient: {
            type: 'object',
            required: ['id', 'name', 'role', 'declaredInRegister'],
            properties: { id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, declaredInRegister: { type: 'boolean' }, cvr: { type: 'string' } },
          },
          activities: namedList,
          purposes: namedList,
          legalBases: namedList,
          dataCategories: namedList,
          disclosures: { type: 'integer' },
          undeclared: { type: 'integer' },
          firstAt: { type: 'string', format: 'date-time' },
          lastAt: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
} as const;

export interface SubjectDisclosuresOptions {
  readonly db: Sql;
  readonly register: ProcessingRegister;
}

/** GET /v1/subjects/:ref/disclosures — who received this subject's data and why, grouped by recipient. */
export const subjectDisclosuresRoutes: FastifyPluginAsync<SubjectDisclosuresOptions> = async (app, { db, register }) => {
  app.get<{ Params: { ref: string } }>(
    '/v1/subjects/:ref/disclosures',
    {
      schema: {
        params: { type: 'object', required: ['ref'], properties: { ref: { type: 'string', pattern: '^psn_[a-z0-9]{1,8}_[A-Za-z0-9_-]{43}$' } } },
        response: { 200: disclosureReportSchema },
      },
    },
    async (request) => buildDisclosureReport(register, request.params.ref, await recipientSummaries(db, request.params.ref)),
  );
};
