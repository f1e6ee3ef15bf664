/** The coordination examples run here, on a real server and on the embedded engine. */
import { describe, expect, it } from 'vitest';
import { main as barrierExample } from '../examples/barrier.js';
import { main as lockExample } from '../examples/lock.js';
import { main as workQueue } from '../examples/work-queue.js';
import { zkSuite } from './support/fixture.js';

const zk = zkSuite({ tickTime: 500 });

describe('coordination examples', () => {
  it('examples/lock.ts: workers take turns; no increment lost', async () => {
    expect(
      await lockExample({ connectString: zk.connectString, path: `${zk.root}/lock`, workers: 3, turns: 5 }),
    ).toBe(15);
  });

  it('examples/lock.ts on the embedded engine', async () => {
    expect(await lockExample({ connectString: 'memory://examples-coordination' })).toBe(15);
  });

  it('examples/work-queue.ts: every job done exactly once', async () => {
    const done = await workQueue({
      connectString: zk.connectString,
      path: `${zk.root}/jobs`,
      producers: 2,
      consumers: 2,
      jobs: 10,
    });
    const all = done.flat().sort();
    expect(all).toHaveLength(20);
    expect(new Set(all).size).toBe(20);
  });

  it('examples/barrier.ts: workers pass the gate together, enter together and leave together', async () => {
    const seen = await barrierExample({ connectString: zk.connectString, path: `${zk.root}/barriers` });
    for (const s of seen)
      expect(s).toEqual(['gate blocked', 'gate open', 'waiting', 'entered', 'leaving', 'left']);
  });
});
