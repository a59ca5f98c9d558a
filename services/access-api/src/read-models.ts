import { activePrefix, recipientSummaries, subjectConsents, subjectList, subjectRetention, subjectTransfers, type Sql, type SubjectRefs } from '@sporbar/projections';
import type { ProcessingRegister } from '@sporbar/schemas';
import { buildArt15Report, type Art15Report } from './art15-report.ts';
import { buildDisclosureReport, type DisclosureReport } from './report.ts';

/** The read models as the API sees them: a database and the prefix of the tables currently active. */
export interface ReadModels {
  readonly db: Sql;
  prefix(): string;
}

/**
 * Follows `read_model_active` so a rebuild in another process switches this API over too; the
 * embedded default passes a holder it updates itself.
 */
export async function watchActiveReadModels(db: Sql, intervalMs = 2000): Promise<ReadModels & { stop(): void }> {
  let prefix = await activePrefix(db);
  const timer = setInterval(() => {
    activePrefix(db)
      .then((p) => (prefix = p))
      .catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return { db, prefix: () => prefix, stop: () => clearInterval(timer) };
}

/** @param subject one pseudonym, or all of a citizen's (current first): the report names the first. */
export async function disclosureReport(rm: ReadModels, register: ProcessingRegister, subject: SubjectRefs): Promise<DisclosureReport> {
  return buildDisclosureReport(register, subjectList(subject)[0]!, await recipientSummaries(rm.db, subject, rm.prefix()));
}

export async function art15Report(rm: ReadModels, register: ProcessingRegister, subject: SubjectRefs, now = new Date()): Promise<Art15Report> {
  const prefix = rm.prefix();
  const [disclosures, transfers, consents, retention] = await Promise.all([
    disclosureReport(rm, register, subject),
    subjectTransfers(rm.db, subject, prefix),
    subjectConsents(rm.db, subject, prefix),
    subjectRetention(rm.db, subject, prefix),
  ]);
  return buildArt15Report(register, { disclosures, transfers, consents, retention }, now);
}
