/**
 * A session whose connections keep closing soon after each reconnect (two handles on one session take
 * it from each other: SESSION_MOVED) is given up: `lost` with reason `moved`, then a new session. On
 * virtual time, with the scripted transport and a 1,000-frame session timeout: given up after ten
 * timeouts with ten drops in the last ten and no connection that lived three.
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ZkClient, type SessionState } from '../src/index.js';
import { scripted } from './support/scripted.js';
import { letters } from './support/virtual.js';

function scheduler() {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

function setup(ts: TestScheduler) {
  const script = scripted(ts);
  const client = new ZkClient('h:1', { transport: script.transport, scheduler: ts, sessionTimeout: 1000 });
  const states: SessionState[] = [];
  client.state$.subscribe((s) => states.push(s));
  return { script, client, states, types$: client.state$.pipe(letters) };
}

const connected = (sessionId: string) => ({ type: 'connected', sessionId, sessionTimeout: 1000 }) as const;

describe('a session that keeps moving away', () => {
  it('no connection lives a session timeout for ten timeouts: lost (moved), a new session', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const { script, client, states, types$ } = setup(ts);
      script.at(10, 0, connected('a'));
      // Every connection is closed 10 frames after it was made, and made again 10 frames later: the
      // drop at frame 10,020 ends the run that began with the first connection (frame 10).
      for (let f = 20; f <= 10_020; f += 20) {
        script.at(f, 0, { type: 'disconnected' });
        script.at(f + 10, 0, connected('a'));
      }
      script.at(10_100, 1, connected('b'));
      const flaps = Array.from({ length: 500 }, () => 's 9ms r').join(' 9ms ');
      expectObservable(types$, '^ 11000ms !').toBe(`i 9ms c 9ms ${flaps} 9ms l 79ms c`);
      ts.schedule(() => {
        expect(states.find((s) => s.type === 'lost')).toEqual({
          type: 'lost',
          sessionId: 'a',
          reason: 'moved',
        });
        // Given up, not ended: the old handle was closed while disconnected; a new one was opened.
        expect(script.opened.map((h) => h.closed)).toEqual([true, false]);
        expect(client.sessionId).toBe('b');
      }, 11_000);
    });
  });

  it('a connection that lives three session timeouts ends the run: no lost', () => {
    const ts = scheduler();
    ts.run(() => {
      const { script, states } = setup(ts);
      script.at(10, 0, connected('a'));
      // Short-lived connections for 9,000 frames, one that holds 3,000, then short-lived for 9,000 more.
      for (let f = 20; f < 21_000; f += 20) {
        if (f > 9_000 && f <= 12_000) continue;
        script.at(f, 0, { type: 'disconnected' });
        script.at(f + 10, 0, connected('a'));
      }
      ts.schedule(() => {
        expect(states.filter((s) => s.type === 'lost')).toEqual([]);
        expect(script.opened).toHaveLength(1);
      }, 22_000);
    });
  });

  it('connections that live a timeout or two now and then do not end it: lost (moved)', () => {
    const ts = scheduler();
    ts.run(() => {
      const { script, states } = setup(ts);
      script.at(10, 0, connected('a'));
      // Short-lived connections, but every 3,000 frames one lives 1,500 (a slow rival, a busy server):
      // the run that began at frame 10 is given up at the first drop at or after frame 10,010.
      let f = 20;
      while (f < 12_000) {
        script.at(f, 0, { type: 'disconnected' });
        const held = f % 3_000 < 20 ? 1_500 : 10;
        script.at(f + 10, 0, connected('a'));
        f += 10 + held;
      }
      ts.schedule(() => {
        const lost = states.findIndex((s) => s.type === 'lost');
        expect(states[lost]).toEqual({ type: 'lost', sessionId: 'a', reason: 'moved' });
        expect(script.opened).toHaveLength(2);
      }, 12_000);
    });
  });

  it('a connection dropped every two session timeouts keeps its session (too few drops)', () => {
    const ts = scheduler();
    ts.run(() => {
      const { script, states } = setup(ts);
      script.at(10, 0, connected('a'));
      // Each connection lives 1,990 frames: 15 drops in 30,000 frames, never ten in 10,000.
      for (let f = 2_000; f < 30_000; f += 2_000) {
        script.at(f, 0, { type: 'disconnected' });
        script.at(f + 10, 0, connected('a'));
      }
      ts.schedule(() => {
        expect(states.filter((s) => s.type === 'lost')).toEqual([]);
        expect(states.filter((s) => s.type === 'reconnected')).toHaveLength(14);
        expect(script.opened).toHaveLength(1);
      }, 31_000);
    });
  });

  it('however slowly it spins: a connection every 500 frames, each closed after 20', () => {
    const ts = scheduler();
    ts.run(() => {
      const { script, states } = setup(ts);
      script.at(10, 0, connected('a'));
      // Never suspended for a whole timeout, but no connection holds.
      for (let f = 30; f < 12_000; f += 500) {
        script.at(f, 0, { type: 'disconnected' });
        script.at(f + 480, 0, connected('a'));
      }
      ts.schedule(() => {
        const lost = states.findIndex((s) => s.type === 'lost');
        expect(states[lost]).toEqual({ type: 'lost', sessionId: 'a', reason: 'moved' });
        // Given up at the first drop 10,000 frames after the run began (frame 10): the one at 10,030.
        expect(states.slice(0, lost).filter((s) => s.type === 'reconnected')).toHaveLength(20);
        expect(script.opened).toHaveLength(2);
      }, 12_000);
    });
  });
});
