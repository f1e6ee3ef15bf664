/**
 * Internal: a contender held as a handle (acquire, withLock and their read/write and semaphore kin).
 */
import { timer, type Subscription } from 'rxjs';
import { ClosedError, InvalidArgumentError } from '../errors.js';
import { LockLostError, LockTimeoutError } from './coordination-errors.js';
import { Contender, type ContenderSpec } from './lock-internals.js';

/** An ownership held until `release()`. */
export interface LockHandle {
  /** The fencing token: our node's czxid. */
  readonly token: number;
  readonly node: string;
  readonly sessionId: string;
  /** The client scheduler's time when ownership began. */
  readonly since: number;
  /**
   * Aborted (with a LockLostError as its reason) when ownership ends before `release()`: suspended
   * connection (safe policy), expiry, our node deleted. The handle is dead then; its node is deleted.
   */
  readonly signal: AbortSignal;
  /** Deletes our node (retried across connection loss); resolves once it is gone. Idempotent. */
  release(): Promise<void>;
}

export function validateTimeout(timeout: unknown, argument = 'options.timeout'): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout)) {
    throw new InvalidArgumentError(argument, 'must be a finite number of ms >= 0', timeout);
  }
  return timeout;
}

/**
 * Contends with `spec` until acquired (resolves a handle), or `timeout` ms pass (rejects with
 * LockTimeoutError, our node deleted), or the stream ends (client closed: ClosedError; an error).
 */
export function hold(spec: ContenderSpec, timeout: number | undefined): Promise<LockHandle> {
  return new Promise<LockHandle>((resolve, reject) => {
    // Made when first asked for (most handles are released without anyone reading `signal`), or when
    // ownership is lost; a signal asked for after the loss is born aborted.
    let abort: AbortController | undefined;
    let lostWith: LockLostError | undefined;
    const controller = (): AbortController => {
      if (!abort) {
        abort = new AbortController();
        if (lostWith) abort.abort(lostWith);
      }
      return abort;
    };
    const lose = (error: LockLostError): void => {
      if (lostWith) return;
      lostWith = error;
      abort?.abort(error);
    };
    let handle: LockHandle | undefined;
    let deadline: Subscription | undefined;
    let settled = false;
    const giveUp = (error: unknown): void => {
      deadline?.unsubscribe();
      void contender.stop();
      if (settled) return;
      settled = true;
      reject(error);
    };
    const contender: Contender = new Contender(spec, {
      next: (o) => {
        if (o.type === 'acquired' && !handle && !settled) {
          settled = true;
          deadline?.unsubscribe();
          handle = {
            token: o.token,
            node: o.node,
            sessionId: o.sessionId,
            since: o.since,
            get signal() {
              return controller().signal;
            },
            release: () => contender.stop(),
          };
          return resolve(handle);
        }
        // A handle never comes back to life: once lost, it is released (CURATOR-206).
        if (o.type === 'lost' && handle) {
          void contender.stop();
          lose(new LockLostError(o.reason, { path: o.type === 'lost' ? handle.node : undefined }));
        }
      },
      error: (error) => {
        if (handle) lose(new LockLostError('error', { cause: error }));
        giveUp(error);
      },
      complete: () => {
        if (handle) lose(new LockLostError('closed', { cause: new ClosedError() }));
        giveUp(new ClosedError());
      },
    });
    if (timeout !== undefined && !settled) {
      deadline = timer(timeout, spec.client.scheduler).subscribe(() =>
        giveUp(new LockTimeoutError(timeout, { path: spec.path })),
      );
    }
  });
}
