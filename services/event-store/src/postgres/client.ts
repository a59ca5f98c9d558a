import { configError } from '../errors.ts';


const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A validated schema name, safe to splice into SQL. */
export function schemaName(schema: string | undefined): string {
  const s = schema ?? 'sporbar';
  if (!SCHEMA_NAME.test(s)) throw configError(`Invalid schema name ${JSON.stringify(s)}: use [a-z_][a-z0-9_]*.`);
  return s;
}

/** The NOTIFY channel an append signals on (one per schema). */
export const notifyChannel = (schema: string): string => `${schema}_events`;
