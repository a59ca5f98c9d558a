import type { FastifyPluginAsync } from 'fastify';
import { accessLogPage, alertsPage, overdueRetention, quarantineList, recipientDays } from '@sporbar/projections';
import { SporbarError } from '@sporbar/common/errors';
import type { ProcessingRegister } from '@sporbar/schemas';
import { requireRole } from '../auth.ts';
import type { ReadModels } from '../read-models.ts';
import { alertItem, DAY, pageOf, pageQuery } from '../schemas.ts';

export interface OversightRoutesOptions {
  readonly readModels: ReadModels;
  readonly register: ProcessingRegister;
}

/** The DPO's views (per recipient, compliance alerts) and the auditor's access log. */
export const oversightRoutes: FastifyPluginAsync<OversightRoutesOptions> = async (app, { readModels, register }) => {
  const recipients = new Map(register.recipients.map((r) => [r.id, r]));

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string } }>(
    '/v1/recipients/:id/summary',
    {
      preHandler: requireRole('dpo', 'auditor'),
      schema: {
        tags: ['dpo'],
        security: [{ bearer: [] }],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,79}$' } } },
        querystring: { type: 'object', additionalProperties: false, properties: { from: DAY, to: DAY } },
      },
    },
    async (request) => {
      const days = await recipientDays(readModels.db, request.params.id, request.query, readModels.prefix());
      const r = recipients.get(request.params.id);
      if (!r && days.length === 0) throw new SporbarError('SPB_ERR_NOT_FOUND', `no recipient '${request.params.id}' in the register or the log`);
      const byPurpose = new Map<string, { disclosures: number; undeclared: number }>();
      for (const d of days) {
        const s = byPurpose.get(d.purpose) ?? { disclosures: 0, undeclared: 0 };
        s.disclosures += d.disclosures;
        s.undeclared += d.undeclared;
        byPurpose.set(d.purpose, s);
      }
      return {
        recipient: { id: request.params.id, name: r?.name ?? request.params.id, role: r?.role ?? 'UNKNOWN', declaredInRegister: r !== undefined },
        totals: { disclosures: days.reduce((n, d) => n + d.disclosures, 0), undeclared: days.reduce((n, d) => n + d.undeclared, 0) },
        byPurpose: [...byPurpose].map(([purpose, s]) => ({ purpose, ...s })),
        days,
      };
    },
  );

  app.get<{ Querystring: { cursor?: string; limit: number; reason?: string } }>(
    '/v1/alerts',
    {
      preHandler: requireRole('dpo', 'auditor'),
      schema: {
        tags: ['dpo'],
        security: [{ bearer: [] }],
        querystring: { type: 'object', additionalProperties: false, properties: { ...pageQuery, reason: { type: 'string', pattern: '^[A-Z_]{3,40}$' } } },
        response: { 200: pageOf(alertItem) },
      },
    },
    async (request) => alertsPage(readModels.db, request.query, readModels.prefix()),
  );

  app.get<{ Querystring: { limit: number; all?: boolean } }>(
    '/v1/quarantine',
    {
      preHandler: requireRole('dpo', 'auditor'),
      schema: {
        tags: ['dpo'],
        security: [{ bearer: [] }],
        description: 'Stored events a read model could not apply (position, event id and type, projection, reason code): the log has them, the read models do not.',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: pageQuery.limit, all: { type: 'boolean' } } },
      },
    },
    async (request) => ({ items: await quarantineList(readModels.db, request.query) }),
  );

  app.get(
    '/v1/retention/overdue',
    { preHandler: requireRole('dpo', 'auditor'), schema: { tags: ['dpo'], security: [{ bearer: [] }], description: 'Retention deadlines that have passed without the data being expired.' } },
    async () => ({ items: await overdueRetention(readModels.db, new Date(), readModels.prefix()) }),
  );

  app.get<{ Querystring: { cursor?: string; limit: number } }>(
    '/v1/access-log',
    {
      preHandler: requireRole('auditor', 'citizen'),
      schema: { tags: ['auditor'], security: [{ bearer: [] }], querystring: { type: 'object', additionalProperties: false, properties: pageQuery } },
    },
    async (request) => {
      // An auditor sees every view; a citizen only the views of their own data.
      const p = request.principal!;
      return accessLogPage(readModels.db, { ...request.query, ...(p.role === 'citizen' ? { subject: p.subjects } : {}) }, readModels.prefix());
    },
  );
};
