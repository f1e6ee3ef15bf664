/**
 * Errors of the coordination recipes (lock, semaphore, queue). They are `ZkError`s with the API error
 * code (-100): nothing a retry of the same request could fix, so `isRetryable` is false for them.
 */
import { Code, ZkError, type ZkErrorOptions } from '../errors.js';

/** A lock (or lease) could not be acquired within the `timeout` given. Our node was deleted. */
export class LockTimeoutError extends ZkError {
  override name = 'LockTimeoutError';
  readonly timeout: number;
  constructor(timeout: number, options: ZkErrorOptions = {}) {
    super(Code.ApiError, `not acquired within ${timeout} ms`, options);
    this.timeout = timeout;
  }
}

/** Ownership ended while work under it was running (suspended connection, expiry, node deleted). */
export class LockLostError extends ZkError {
  override name = 'LockLostError';
  readonly reason: string;
  constructor(reason: string, options: ZkErrorOptions = {}) {
    super(Code.ApiError, `ownership lost (${reason})`, options);
    this.reason = reason;
  }
}

/** A queue item whose payload the consumer's `decode` rejected. The item is not lost: see `data`. */
export class QueuePayloadError extends ZkError {
  override name = 'QueuePayloadError';
  readonly data: Buffer;
  constructor(data: Buffer, options: ZkErrorOptions = {}) {
    super(Code.ApiError, 'queue item payload could not be decoded', options);
    this.data = data;
  }
}

/**
 * A semaphore participant asked for a number of leases other than the one stored on the semaphore's
 * node by the participant that came first: they would admit different numbers of holders.
 */
export class SemaphoreLimitError extends ZkError {
  override name = 'SemaphoreLimitError';
  /** The limit stored on the node (NaN when the node holds something other than a count). */
  readonly stored: number;
  /** The limit this participant asked for. */
  readonly requested: number;
  constructor(stored: number, requested: number, options: ZkErrorOptions = {}) {
    super(
      Code.ApiError,
      `semaphore limit mismatch: the node stores ${Number.isNaN(stored) ? 'no valid count' : stored} leases, ` +
        `this participant asked for ${requested}`,
      options,
    );
    this.stored = stored;
    this.requested = requested;
  }
}
