/**
 * A transport whose connection events are placed on virtual-time frames by the test. It stands in for
 * the server only where the session state machine is concerned; operations are not scripted here.
 */
import type { SchedulerLike } from 'rxjs';
import { ConnectionLossError } from '../../src/index.js';
import type { Transport, TransportEvent, TransportHandle } from '../../src/index.js';

export interface Scripted {
  readonly transport: Transport;
  /** Handles opened so far, in order. */
  readonly opened: { closed: boolean }[];
  /** Delivers `event` to handle number `handle` (0-based) at virtual time `frame`. */
  at(frame: number, handle: number, event: TransportEvent): void;
}

export function scripted(scheduler: SchedulerLike): Scripted {
  const listeners: ((event: TransportEvent) => void)[] = [];
  const opened: { closed: boolean }[] = [];
  const transport: Transport = {
    name: 'scripted',
    open(_options, onEvent) {
      const state = { closed: false };
      opened.push(state);
      listeners.push(onEvent);
      const fail = () => Promise.reject(new ConnectionLossError());
      const handle: TransportHandle = {
        sessionId: undefined,
        sessionPassword: undefined,
        create: fail,
        get: fail,
        set: fail,
        delete: fail,
        exists: fail,
        children: fail,
        sync: fail,
        getACL: fail,
        setACL: fail,
        addAuth: () => Promise.resolve(),
        close: () => {
          state.closed = true;
        },
      };
      return handle;
    },
  };
  return {
    transport,
    opened,
    at(frame, handle, event) {
      scheduler.schedule(() => listeners[handle]?.(event), frame);
    },
  };
}
