/** Nothing accumulates: many operations and many connect/close cycles leave no handle, session or watch. */
import { describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import { openClientCount, openHandleCount } from '../src/testing/index.js';
import { liveSessions, watchCount } from './support/fourLetter.js';
import { eventually, sleep, zkSuite } from './support/fixture.js';

const zk = zkSuite();

/** libuv resources of this process, by type (sockets, timers, ...). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

describe('leaks', () => {
  it('10,000 operations with watches leave no pending work, no watch and no handle', async () => {
    const c = zk.client();
    await c.ready();
    const paths = Array.from({ length: 100 }, (_, i) => `${zk.root}/n${i}`);
    await Promise.all(paths.map((p) => c.create(p, '0')));
    let fired = 0;
    const watch = () => fired++;
    for (let round = 0; round < 25; round++) {
      // 4 operations x 100 paths per round; the watches set here fire on the next round's set.
      await Promise.all(
        paths.flatMap((p, i) => [
          c.get(p, { watch }),
          c.exists(p, { watch }),
          c.set(p, `${round}-${i}`),
          c.children(p),
        ]),
      );
    }
    expect(fired).toBeGreaterThan(0);
    // The last round's data watches fired on its own sets; exists watches too. Nothing stays armed
    // once no further read registers one.
    await eventually(async () => expect(await watchCount(zk.connectString)).toBe(0));
    await c.close();
    expect(openHandleCount()).toBe(0);
  });

  it('100 connect/close cycles leave no handles, listeners, sessions or libuv resources', async () => {
    const before = resources();
    const exitListeners = process.listenerCount('exit');
    for (let i = 0; i < 100; i++) {
      const c = connect(zk.connectString, { sessionTimeout: 10_000 });
      await c.ready();
      await c.exists('/');
      await c.close();
    }
    expect(openClientCount()).toBe(0);
    expect(openHandleCount()).toBe(0);
    expect(process.listenerCount('exit')).toBe(exitListeners);
    await eventually(async () => expect(await liveSessions(zk.connectString)).toEqual([]), 15_000);
    // Native handles are closed a macrotask after close(); give libuv a moment to reap them.
    await sleep(200);
    await eventually(() => {
      const after = resources();
      for (const type of new Set([...Object.keys(before), ...Object.keys(after)])) {
        expect(after[type] ?? 0, `libuv ${type}`).toBeLessThanOrEqual((before[type] ?? 0) + 1);
      }
    });
  });
});
