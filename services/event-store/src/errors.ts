// Relative import on purpose: the schemas package index may still be in flux.
export { SporbarError, isSporbarError, type ErrorCode } from '../../../schemas/src/errors.ts';
import { SporbarError } from '../../../schemas/src/errors.ts';

export const storeClosed = (adapter: string): SporbarError =>
  new SporbarError('SPB_ERR_STORE_CLOSED', `The ${adapter} event store is closed.`, { details: { adapter } });

/** A wrong or missing option: the service refuses to start. */
export const configError = (message: string): SporbarError => new SporbarError('SPB_ERR_CONFIG', message);
