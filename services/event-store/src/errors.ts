import { SporbarError } from '@sporbar/common/errors';

export { SporbarError, isSporbarError, type ErrorCode } from '@sporbar/common/errors';

export const storeClosed = (adapter: string): SporbarError =>
  new SporbarError('SPB_ERR_STORE_CLOSED', `The ${adapter} event store is closed.`, { details: { adapter } });

/** A wrong or missing option: the service refuses to start. */
export const configError = (message: string): SporbarError => new SporbarError('SPB_ERR_CONFIG', message);
