/** A transport wrapper that counts requests in flight, to show reads are pipelined, not serial. */
import { nativeTransport, type Transport, type TransportHandle } from '../../src/index.js';

export interface Counting {
  readonly transport: Transport;
  readonly stats: { inFlight: number; maxInFlight: number; requests: number };
  reset(): void;
}

export function countingTransport(inner: Transport = nativeTransport()): Counting {
  const stats = { inFlight: 0, maxInFlight: 0, requests: 0 };
  const counted =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      stats.requests++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      return fn(...args).finally(() => stats.inFlight--);
    };
  const transport: Transport = {
    name: `counting(${inner.name})`,
    open(options, onEvent) {
      const h = inner.open(options, onEvent);
      const wrapped: TransportHandle = {
        get sessionId() {
          return h.sessionId;
        },
        get sessionPassword() {
          return h.sessionPassword;
        },
        get removeWatches() {
          return h.removeWatches?.bind(h);
        },
        create: counted(h.create.bind(h)),
        get: counted(h.get.bind(h)),
        set: counted(h.set.bind(h)),
        delete: counted(h.delete.bind(h)),
        exists: counted(h.exists.bind(h)),
        children: counted(h.children.bind(h)),
        sync: counted(h.sync.bind(h)),
        getACL: counted(h.getACL.bind(h)),
        setACL: counted(h.setACL.bind(h)),
        addAuth: h.addAuth.bind(h),
        close: () => h.close(),
      };
      return wrapped;
    },
  };
  return {
    transport,
    stats,
    reset: () => Object.assign(stats, { inFlight: 0, maxInFlight: 0, requests: 0 }),
  };
}
