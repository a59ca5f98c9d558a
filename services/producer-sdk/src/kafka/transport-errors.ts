import { SporbarError } from '@sporbar/common/errors';

/** flush() did not finish in time (SPB_ERR_FLUSH_TIMEOUT); `pending` events are still spooled or in flight (not lost). */
export class FlushTimeoutError extends SporbarError {
  constructor(
    readonly timeoutMs: number,
    readonly pending: number,
  ) {
    super('SPB_ERR_FLUSH_TIMEOUT', `flush did not complete within ${timeoutMs} ms; ${pending} events are not yet delivered (they stay in the spool)`, {
      details: { timeoutMs, pending },
    });
    this.name = 'FlushTimeoutError';
  }
}

/**
 * The transport is closed (SPB_ERR_TRANSPORT_CLOSED): send() accepts nothing more, and a flush()
 * cannot complete; `pending` events stay in the spool for the next transport on that directory.
 */
export class TransportClosedError extends SporbarError {
  constructor(
    readonly pending: number,
    reason = 'the Kafka transport is closed',
  ) {
    super('SPB_ERR_TRANSPORT_CLOSED', pending > 0 ? `${reason}; ${pending} events are not yet delivered (they stay in the spool)` : reason, { details: { pending } });
    this.name = 'TransportClosedError';
  }
}
