/** The session state machine on virtual time: every timer runs on the TestScheduler. */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ZkClient } from '../src/index.js';
import { scripted } from './support/scripted.js';
import { letters } from './support/virtual.js';

function scheduler() {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A client on the scripted transport, with a 1,000-frame session timeout. */
function setup(ts: TestScheduler) {
  const script = scripted(ts);
  const client = new ZkClient('h:1', { transport: script.transport, scheduler: ts, sessionTimeout: 1000 });
  return { script, client, types$: client.state$.pipe(letters) };
}

const connected = (sessionId: string) => ({ type: 'connected', sessionId, sessionTimeout: 1000 }) as const;

describe('state$', () => {
  it('declares lost by its own timer after suspended lasts one session timeout, then opens a new session', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const { script, client, types$ } = setup(ts);
      script.at(10, 0, connected('a'));
      script.at(100, 0, { type: 'disconnected' });
      // handle 1 is opened by the client at frame 1100, when it judges the session lost
      script.at(1500, 1, connected('b'));
      expectObservable(types$).toBe('i 9ms c 89ms s 999ms l 399ms c');
      ts.schedule(() => {
        expect(script.opened.map((h) => h.closed)).toEqual([true, false]);
        expect(client.sessionId).toBe('b');
      }, 1600);
    });
  });

  it('reconnecting within the timeout cancels the timer: reconnected, same session, no lost', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const { script, types$ } = setup(ts);
      script.at(10, 0, connected('a'));
      script.at(100, 0, { type: 'disconnected' });
      script.at(1099, 0, connected('a'));
      expectObservable(types$, '^ 3000ms !').toBe('i 9ms c 89ms s 998ms r');
      ts.schedule(() => expect(script.opened).toHaveLength(1), 3000);
    });
  });

  it('expiry reported by the server: lost then connected on a new handle; the dead one is never reused', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const { script, types$ } = setup(ts);
      script.at(10, 0, connected('a'));
      script.at(50, 0, { type: 'disconnected' });
      script.at(60, 0, { type: 'expired' });
      // late events of the dead handle are ignored
      script.at(70, 0, connected('a'));
      script.at(80, 1, connected('b'));
      expectObservable(types$).toBe('i 9ms c 39ms s 9ms l 19ms c');
      ts.schedule(() => expect(script.opened.map((h) => h.closed)).toEqual([true, false]), 100);
    });
  });

  it('flapping never yields an impossible transition', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const { script, types$ } = setup(ts);
      script.at(10, 0, connected('a'));
      for (let f = 20; f < 200; f += 20) {
        script.at(f, 0, { type: 'disconnected' });
        script.at(f, 0, { type: 'disconnected' });
        script.at(f + 10, 0, connected('a'));
        script.at(f + 10, 0, connected('a'));
      }
      const flaps = Array.from({ length: 9 }, () => 's 9ms r').join(' 9ms ');
      expectObservable(types$, '^ 500ms !').toBe(`i 9ms c 9ms ${flaps}`);
    });
  });

  it('after an authentication failure the next session waits a backoff (no storm of sessions); close cancels it', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const script = scripted(ts);
      const retry = { baseDelay: 100, maxDelay: 400, jitter: 0 };
      const client = new ZkClient('h:1', {
        transport: script.transport,
        scheduler: ts,
        sessionTimeout: 1000,
        retry,
      });
      // Each session fails its authentication 10 ms after connecting; the next one opens 100, 200,
      // 400, 400 ms after that failure (the same credentials would fail again at once).
      const opens = [0, 120, 340, 760, 1180];
      opens.forEach((at, i) => {
        script.at(at + 10, i, connected(`s${i}`));
        script.at(at + 20, i, { type: 'authFailed' });
      });
      ts.schedule(() => void client.close(), 1300);
      expectObservable(client.state$.pipe(letters)).toBe(
        'i 9ms c 9ms l 109ms c 9ms l 209ms c 9ms l 409ms c 9ms l 409ms c 9ms l 99ms (x|)',
      );
      ts.schedule(() => expect(script.opened).toHaveLength(5), 1299);
      // No session after close, though one was due at 1600.
      ts.schedule(() => expect(script.opened.map((h) => h.closed)).toEqual(Array(5).fill(true)), 3000);
    });
  });

  it('close completes the stream at once, from any state', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const { script, client, types$ } = setup(ts);
      script.at(10, 0, connected('a'));
      script.at(20, 0, { type: 'disconnected' });
      ts.schedule(() => void client.close(), 30);
      expectObservable(types$).toBe('i 9ms c 9ms s 9ms (x|)');
      ts.schedule(() => expect(script.opened.map((h) => h.closed)).toEqual([true]), 2000);
    });
  });
});
