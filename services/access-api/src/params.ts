import { isDay, isInstant, parseCursor } from '@sporbar/projections';
import { findCprLike } from '@sporbar/schemas';

/**
 * JSON Schema formats of the route schemas (ajv, through fastify's validator): a value that passes a
 * pattern but is not a real value is refused as a 400 naming the parameter, before any query runs.
 */
export const apiFormats = {
  /** `YYYY-MM-DD` or an ISO instant that exists (see isInstant in @sporbar/projections). */
  'sporbar-instant': { type: 'string', validate: isInstant },
  /** `YYYY-MM-DD` that exists (no year 0000, no 30 February). */
  'sporbar-day': { type: 'string', validate: isDay },
  /** A cursor as the API hands it out: base64url of `["<instant>", "<uuid>"]`. */
  'sporbar-cursor': { type: 'string', validate: (v: string) => parseCursor(v) !== null },
  /**
   * Free text without anything shaped like a CPR number (the schemas' text rule, as the producer and
   * the ingest apply it): a caseworker's `reason` is a case number, and one holding a CPR number would
   * put it in the ReportViewed event and the access log in clear.
   */
  'sporbar-no-cpr': { type: 'string', validate: (v: string) => !findCprLike(v) },
} as const;
