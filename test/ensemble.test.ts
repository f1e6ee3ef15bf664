/** A 3-node ensemble: the ensemble's own leader is killed while the client works. */
import { describe, expect, it } from 'vitest';
import { CreateMode, isValidTransition, type SessionState } from '../src/index.js';
import { zkSuite } from './support/fixture.js';

const zk = zkSuite({ ensemble: 3, tickTime: 500 });

describe('ensemble', () => {
  it('killing the leader pauses operations briefly; none is lost or applied twice', async () => {
    // 10 s: the suite runs beside other ensembles on two cores; a starved client must not look expired.
    const c = zk.client({
      sessionTimeout: 10_000,
      retry: { maxRetries: 30, baseDelay: 50, maxDelay: 1_000 },
    });
    const states: SessionState['type'][] = [];
    c.state$.subscribe((s) => {
      const previous = states.at(-1);
      if (previous) expect(isValidTransition(previous, s.type)).toBe(true);
      states.push(s.type);
    });
    await c.ready();
    const sessionId = c.sessionId;
    const total = 300;
    let done = 0;
    let longestMs = 0;
    let last = Date.now();
    const work = (async () => {
      for (let i = 0; i < total; i++) {
        // Protected sequential creates: a lost reply is recovered by GUID, never duplicated.
        await c.create(`${zk.root}/op-`, `${i}`, { mode: CreateMode.PersistentSequential });
        const now = Date.now();
        longestMs = Math.max(longestMs, now - last);
        last = now;
        done++;
      }
    })();
    while (done < 50) await new Promise((r) => setTimeout(r, 10));
    const killed = await zk.ensemble!.killLeader();
    await work;
    const data = await Promise.all(
      (await c.children(zk.root)).children.map(async (name) =>
        (await c.get(`${zk.root}/${name}`)).data.toString(),
      ),
    );
    expect(data.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    // The session outlived the leader: ZooKeeper sessions belong to the ensemble, not to one server.
    expect(c.sessionId).toBe(sessionId);
    expect(states).not.toContain('lost');
    expect(longestMs).toBeLessThan(15_000);
    console.log(
      `leader ${killed.id} killed after 50 ops: longest pause ${longestMs} ms; states ${states.join(' ')}`,
    );
    await killed.start();
    await zk.ensemble!.waitForQuorum();
  });
});
