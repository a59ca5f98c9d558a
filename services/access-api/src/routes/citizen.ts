import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { accessLogPage, disclosuresPage, disclosureTimes, isSubjectDisclosure, type DisclosureItem, type DisclosureTime } from '@sporbar/projections';
import { SporbarError } from '@sporbar/common/errors';
import type { EventStore } from '@sporbar/event-store';
import { registerWords, type ProcessingRegister, type RegisterFiles } from '@sporbar/schemas';
import { withJudgedByText } from '../judged-by.ts';
import type { SubjectKeyStore } from '@sporbar/key-store';
import { openDetails, withDetails } from '../details.ts';
import { inclusionProofsOf, type LogServiceLike } from '@sporbar/log/routes';
import type { TlogPolicy } from '@sporbar/auditor/note';
import { judgeIntegrity } from '../integrity.ts';
import { requireRole } from '../auth.ts';
import { renderCitizenView, type TimelineItem } from '../html/citizen-report.ts';
import { citizenView } from '../citizen-view.ts';
import { renderTimelineChart, type ChartSeries } from '../html/timeline-chart.ts';
import { citizenPdfDocument } from '../pdf/citizen-pdf.ts';
import { renderPdf } from '../pdf/report-pdf.ts';
import { reasonText } from '../html/i18n.ts';
import { art15Report, type ReadModels } from '../read-models.ts';
import { DATE_OR_TIME, disclosureItem, disclosureQuery, pageOf, pageQuery } from '../schemas.ts';
import type { RecordView } from '../record-view.ts';
import { proofBundle, ProofMismatchError } from '../proof-bundle.ts';
import type { SubjectMapKeys } from '@sporbar/auditor/map';
import { createCodec } from '@sporbar/schemas';
import { subjectMapBundle, SubjectMapMismatch, SubjectMapNotYet } from '../subject-map-bundle.ts';

export interface CitizenRoutesOptions {
  readonly readModels: ReadModels;
  readonly register: ProcessingRegister;
  /** Names the notice version each disclosure was judged by. */
  readonly registerFiles: RegisterFiles;
  readonly recordView: RecordView;
  readonly subjectKeys?: SubjectKeyStore;
  readonly log?: LogServiceLike;
  /** The stored events' bytes for the proof downloads (GET /v1/me/disclosures/:eventId/proof); without it they answer 503. */
  readonly eventStore?: EventStore;
  /** The witness policy the report judges the log's checkpoint by (SPORBAR_WITNESS_POLICY_FILE). */
  readonly witnessPolicy?: TlogPolicy;
  /** The subject map's key (SPORBAR_SUBJECT_MAP_KEY): with the log and the event store, the completeness proof (GET /v1/me/subject-map). */
  readonly subjectMapKeys?: SubjectMapKeys;
}

/** At most this many disclosures in a copy to keep (newest first). */
const COPY_LIMIT = 100_000;

/** "sporbar-indsigt-2026-12-07" / "sporbar-report-2026-12-07". */
const copyName = (lang: 'da' | 'en', now: Date): string => `sporbar-${lang === 'da' ? 'indsigt' : 'report'}-${now.toISOString().slice(0, 10)}`;

/** Where a disclosure's proof is downloaded (the JSON report's `proofUrl`, the page's link). */
export const proofUrl = (eventId: string): string => `/v1/me/disclosures/${encodeURIComponent(eventId)}/proof`;

/** The browser asks for text/html first; API clients get JSON. */
const wantsHtml = (accept: string | undefined): boolean => {
  const html = accept?.indexOf('text/html') ?? -1;
  const json = accept?.indexOf('application/json') ?? -1;
  return html >= 0 && (json < 0 || html < json);
};

/** The citizen's own data: the subject always comes from the token, never from the URL. */
export const citizenRoutes: FastifyPluginAsync<CitizenRoutesOptions> = async (app, { readModels, register, registerFiles, recordView, subjectKeys, log, eventStore, witnessPolicy, subjectMapKeys }) => {
  const codec = createCodec();
  const mapDeps = log && eventStore && subjectMapKeys ? { log, store: eventStore, codec, keys: subjectMapKeys } : undefined;
  const recipientNames = new Map(register.recipients.map((r) => [r.id, r.name]));
  const wordsByLang = { da: registerWords(registerFiles, 'da'), en: registerWords(registerFiles, 'en') };
  const words = (lang: 'da' | 'en') => wordsByLang[lang];

  app.get<{ Querystring: { from?: string; to?: string; recipient?: string; purpose?: string; cursor?: string; limit: number } }>(
    '/v1/me/disclosures',
    { preHandler: requireRole('citizen'), schema: { tags: ['citizen'], security: [{ bearer: [] }], querystring: disclosureQuery, response: { 200: pageOf(disclosureItem) } } },
    async (request) => {
      const { subject, subjects } = request.principal!;
      await recordView(request, subject!, null);
      const page = await disclosuresPage(readModels.db, subjects, request.query, readModels.prefix());
      const details = await openDetails(subjectKeys, subject!, page.items);
      // One object per item; the response schema is the allow-list of what is sent.
      return {
        items: withJudgedByText(page.items, registerFiles).map((i, n) => ({
          ...i, details: details[n]!, recipientName: recipientNames.get(i.recipientId) ?? i.recipientId, reasonTexts: i.reasons.map((r) => reasonText(r, 'en')),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get<{ Querystring: { lang?: 'da' | 'en'; recipient?: string; from?: string; to?: string } }>(
    '/v1/me/report',
    {
      preHandler: requireRole('citizen'),
      schema: {
        tags: ['citizen'],
        security: [{ bearer: [] }],
        description: 'The GDPR Art. 15 report: JSON, or the citizen page when the client asks for text/html.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            lang: { type: 'string', enum: ['da', 'en'] },
            recipient: disclosureQuery.properties.recipient,
            from: DATE_OR_TIME,
            to: DATE_OR_TIME,
          },
        },
      },
    },
    async (request, reply) => {
      const { subject, subjects } = request.principal!;
      await recordView(request, subject!, null);
      const report = await art15Report(readModels, register, subjects);
      if (wantsHtml(request.headers.accept)) {
        const { recipient, from, to } = request.query;
        const lang = request.query.lang ?? 'da';
        const timeline = await disclosuresPage(readModels.db, subjects, { recipient, from, to, limit: 100 }, readModels.prefix());
        const now = new Date();
        const view = citizenView(report, await withDetails(subjectKeys, subject!, timeline.items), registerFiles, lang, now);
        // Every disclosure of the subject (recipient, time, flagged), not only the page's 100.
        const chart = timelineChart(await disclosureTimes(readModels.db, subjects, readModels.prefix()), lang, now);
        const chartSvg = `${chart.svg}<details class="chart-numbers"><summary>${chart.seeNumbers}</summary>${chart.table}</details>`;
        return reply.type('text/html; charset=utf-8').send(renderCitizenView(view, { lang, filters: { recipient, from, to }, proofs: log !== undefined && eventStore !== undefined, ...(mapDeps ? { completeness: { total: report.totalDisclosures } } : {}), registerFiles, chartSvg }));
      }
      return { ...report, integrity: await integrity(subjects) };
    },
  );

  /** The chart of all the subject's disclosures per recipient over time (not only the page's 100). */
  function timelineChart(disclosures: readonly DisclosureTime[], lang: 'da' | 'en', now: Date) {
    const bySeries = new Map<string, ChartSeries>();
    for (const d of disclosures) {
      let s = bySeries.get(d.recipientId);
      if (!s) bySeries.set(d.recipientId, (s = { label: words(lang).recipient(d.recipientId), times: [], flaggedTimes: [] }));
      s.times.push(d.occurredAt);
      if (d.flagged) s.flaggedTimes!.push(d.occurredAt);
    }
    return renderTimelineChart({ lang, series: [...bySeries.values()], now }, { idPrefix: 'timeline-chart' });
  }

  /** Every one of the subject's disclosures, newest first, with the details opened (the copies to keep). */
  async function allDisclosures(subject: string, subjects: readonly string[]): Promise<TimelineItem[]> {
    const items: DisclosureItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await disclosuresPage(readModels.db, subjects, { limit: 1000, ...(cursor ? { cursor } : {}) }, readModels.prefix());
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && items.length < COPY_LIMIT);
    return withDetails(subjectKeys, subject, items);
  }

  const copyQuery = { type: 'object', additionalProperties: false, properties: { lang: { type: 'string', enum: ['da', 'en'] } } } as const;

  /** What both copies hold, read once per download (recorded as a view of the subject's data). */
  async function copyOf(request: FastifyRequest<{ Querystring: { lang?: 'da' | 'en' } }>) {
    const { subject, subjects } = request.principal!;
    const lang = request.query.lang ?? 'da';
    await recordView(request, subject!, null);
    const now = new Date();
    const report = await art15Report(readModels, register, subjects);
    const disclosures = await allDisclosures(subject!, subjects);
    return { lang, now, report, disclosures, view: citizenView(report, disclosures, registerFiles, lang, now) };
  }
  /** A download to keep: attachment, named by language and day, never cached. */
  const attachment = (reply: FastifyReply, type: string, name: string) =>
    reply.type(type).header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'private, no-store');

  /**
   * A copy to keep (GDPR Art. 15(3)) as a PDF: the page's words, every disclosure (with what was
   * disclosed, or when it was erased), the chart, the Art. 15 sections. Recorded as a view.
   */
  app.get<{ Querystring: { lang?: 'da' | 'en' } }>(
    '/v1/me/report.pdf',
    { preHandler: requireRole('citizen'), schema: { tags: ['citizen'], security: [{ bearer: [] }], description: 'Your report as a PDF to keep (GDPR Art. 15(3)), in Danish or English.', querystring: copyQuery, produces: ['application/pdf'] } },
    async (request, reply) => {
      const { lang, now, disclosures, view } = await copyOf(request);
      // The copy already holds every disclosure: the chart is drawn from them, not asked for again.
      const chart = timelineChart(disclosures.map((d) => ({ recipientId: d.recipientId, occurredAt: d.occurredAt, flagged: d.classification === 'undeclared' })), lang, now);
      return attachment(reply, 'application/pdf', `${copyName(lang, now)}.pdf`).send(await renderPdf(citizenPdfDocument(view, chart.layout, now)));
    },
  );

  /**
   * The same copy as JSON, for a machine: the report as the API gives it (ids and codes), every
   * disclosure with its details opened, and the same report in words (`words`, the page's view).
   */
  app.get<{ Querystring: { lang?: 'da' | 'en' } }>(
    '/v1/me/report.json',
    { preHandler: requireRole('citizen'), schema: { tags: ['citizen'], security: [{ bearer: [] }], description: 'Your report as JSON to keep (GDPR Art. 15(3)): the report with its codes, every disclosure, and the same in words.', querystring: copyQuery } },
    async (request, reply) => {
      const { lang, now, report, disclosures, view } = await copyOf(request);
      const body = {
        format: 'sporbar-report-copy/1',
        generatedAt: now.toISOString(),
        lang,
        report,
        disclosures: withJudgedByText(disclosures, registerFiles).map((d) => ({ ...d, proofUrl: proofUrl(d.eventId) })),
        words: view,
        // The proof that `disclosures` is complete (check it with `sporbar-audit verify-proof`), or why there is none yet.
        subjectMap: await completenessOf(request.principal!.subjects),
      };
      return attachment(reply, 'application/json; charset=utf-8', `${copyName(lang, now)}.json`).send(JSON.stringify(body, null, 2));
    },
  );

  /**
   * Inclusion proofs for the subject's latest entries against the latest signed checkpoint: with
   * GET /v1/log/key anyone can check offline that these disclosures are in the log as recorded.
   * Entries newer than the checkpoint are listed as pending (the next checkpoint covers them). One
   * request to the log (its batch call). If the log cannot answer (the log service is down), the
   * report still answers: `status: 'unavailable'`, every entry pending.
   *
   * What the log answers is checked here, not trusted (integrity.ts): with a witness policy the
   * checkpoint's signature, cosignatures and quorum, and always every proof against its root. The
   * status is ok, unwitnessed, invalid or unavailable, with `reason` in plain words when not ok and
   * `witnessed` (each witness's name and status) with a policy.
   */
  async function integrity(subject: readonly string[]) {
    if (!log) return null;
    const latest = await disclosuresPage(readModels.db, subject, { limit: 100 }, readModels.prefix());
    const eventIds = latest.items.map((item) => item.eventId);
    try {
      const { checkpoint, proofs, pending } = await inclusionProofsOf(log, eventIds);
      const verdict = judgeIntegrity(checkpoint ?? null, proofs, witnessPolicy);
      if (verdict.status === 'invalid') app.log.error({ reason: verdict.reason }, "alert: the log's answer for a citizen report does not verify");
      return { ...verdict, checkpoint: checkpoint ?? null, inclusionProofs: proofs.map((p) => ({ ...p, proofUrl: proofUrl(p.eventId) })), pending };
    } catch (err) {
      app.log.warn({ err: { code: (err as { code?: unknown }).code, message: (err as Error).message } }, 'the log could not give the report its integrity section');
      return { status: 'unavailable' as const, reason: `the log could not be asked: ${(err as Error).message}`, checkpoint: null, inclusionProofs: [], pending: eventIds };
    }
  }

  /** The completeness proof for the copy: the bundle, or why there is none (never fails the copy). */
  async function completenessOf(subjects: readonly string[]) {
    if (!mapDeps) return { status: 'unavailable' as const, reason: 'this server keeps no subject map' };
    try {
      return await subjectMapBundle(mapDeps, subjects);
    } catch (err) {
      if (err instanceof SubjectMapNotYet) return { status: 'pending' as const, reason: err.message };
      if (err instanceof SubjectMapMismatch) app.log.error({ err: { name: err.name, message: err.message } }, "alert: the log's subject map and the event store disagree");
      app.log.warn({ err: { code: (err as { code?: unknown }).code, message: (err as Error).message } }, 'no completeness proof for a report copy');
      return { status: 'unavailable' as const, reason: 'the log could not be asked' };
    }
  }

  app.get<{ Querystring: { download?: boolean } }>(
    '/v1/me/subject-map',
    {
      preHandler: requireRole('citizen'),
      schema: {
        tags: ['citizen'],
        security: [{ bearer: [] }],
        description:
          'The proof that your report leaves nothing out (docs/subject-map.md): a `sporbar-subject-map-proof/1` bundle — the log\'s checkpoint, the subject map\'s commitment in it, a map proof per pseudonym of yours and every disclosure of yours in the log up to the map\'s size, with its stored bytes. The page checks it on your device; `sporbar-audit verify-proof` checks it offline. 409 while no map commitment is in a signed checkpoint yet.',
        querystring: { type: 'object', additionalProperties: false, properties: { download: { type: 'boolean' } } },
      },
    },
    async (request, reply) => {
      const { subject, subjects } = request.principal!;
      if (!mapDeps) throw new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'this server cannot prove completeness (it has no log, no event store or no subject map key)');
      // The bundle carries the stored bytes of the subject's events: recorded like any other view of them.
      await recordView(request, subject!, null);
      let bundle;
      try {
        bundle = await subjectMapBundle(mapDeps, subjects);
      } catch (err) {
        if (!(err instanceof SubjectMapMismatch)) throw err;
        request.log.error({ err: { name: err.name, message: err.message } }, "alert: the log's subject map and the event store disagree");
        throw new SporbarError('SPB_ERR_INTERNAL', 'internal error');
      }
      reply.header('cache-control', 'private, no-store');
      if (request.query.download) reply.header('content-disposition', `attachment; filename="sporbar-subject-map-${new Date().toISOString().slice(0, 10)}.json"`);
      return bundle;
    },
  );

  app.get<{ Params: { eventId: string } }>(
    '/v1/me/disclosures/:eventId/proof',
    {
      preHandler: requireRole('citizen'),
      schema: {
        tags: ['citizen'],
        security: [{ bearer: [] }],
        description:
          'One of your disclosures as a C2SP tlog-proof file (the log\'s cosigned checkpoint, the inclusion proof, the stored event\'s bytes): check it offline with `sporbar-audit verify-proof`. 404 unless it is your own; 409 while no signed checkpoint covers it yet.',
        params: { type: 'object', required: ['eventId'], additionalProperties: false, properties: { eventId: { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } } },
        produces: ['text/plain'],
      },
    },
    async (request, reply) => {
      const { subject, subjects } = request.principal!;
      const eventId = request.params.eventId.toLowerCase();
      // Another person's disclosure, or none: the same 404, so nothing is revealed about it.
      if (!(await isSubjectDisclosure(readModels.db, subjects, eventId, readModels.prefix()))) {
        throw new SporbarError('SPB_ERR_NOT_FOUND', 'you have no disclosure with this eventId', { details: { field: 'eventId' } });
      }
      if (!log || !eventStore) throw new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'proofs cannot be downloaded from this server (it has no log or no event store)');
      // The stored event's bytes are the subject's data: recorded like any other view of it.
      await recordView(request, subject!, null);
      let bundle;
      try {
        bundle = await proofBundle(log, eventStore, eventId);
      } catch (err) {
        if (!(err instanceof ProofMismatchError)) throw err;
        // The log and the event store disagree: a proof that would not check out is never handed out.
        request.log.error({ err: { name: err.name, message: err.message } }, 'the log and the event store disagree about an entry');
        throw new SporbarError('SPB_ERR_INTERNAL', 'internal error');
      }
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="sporbar-${eventId}.tlog-proof"`)
        .header('cache-control', 'private, no-store')
        .send(bundle.text);
    },
  );

  app.get<{ Querystring: { cursor?: string; limit: number } }>(
    '/v1/me/access-log',
    { preHandler: requireRole('citizen'), schema: { tags: ['citizen'], security: [{ bearer: [] }], querystring: { type: 'object', additionalProperties: false, properties: pageQuery } } },
    async (request) => accessLogPage(readModels.db, { ...request.query, subject: request.principal!.subjects }, readModels.prefix()),
  );
};
