/** leader$ on virtual time: who leads, for observers, including nodes written as Curator writes them. */
import { map } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leader$, leadership, type Leader } from '../../src/index.js';
import { VirtualZooKeeper } from '../../src/testing/index.js';

const ids = map((l: Leader | null) =>
  l === null ? null : `${l.id}${l.data.length ? `+${l.data.toString()}` : ''}`,
);

let zk: VirtualZooKeeper;
beforeEach(() => {
  zk = new VirtualZooKeeper({ assert: (actual, expected) => expect(actual).toEqual(expected) });
});
afterEach(() => zk.close());

describe('leader$', () => {
  it('null without candidates, then each leader in turn, then null again', async () => {
    const observer = zk.client();
    const seen = zk.record(leader$(observer, '/e').pipe(ids));
    zk.record(leadership(zk.client(), '/e', { id: 'a', data: 'http://a' }), '10ms ^ 39ms !');
    zk.record(leadership(zk.client(), '/e', { id: 'b' }), '20ms ^ 59ms !');
    await zk.advance(200);
    // At 50 a resigns and b leads; at 80 b resigns.
    zk.expect(seen).toBe('n 9ms a 39ms b 29ms n', { n: null, a: 'a+http://a', b: 'b' });
  });

  it('reports the token (czxid) and owner of the leading node', async () => {
    const observer = zk.client();
    const candidate = zk.client();
    const seen = zk.record(leader$(observer, '/e'));
    const run = zk.record(leadership(candidate, '/e', { id: 'a' }));
    await zk.advance(10);
    const leader = seen.messages.at(-1)!.notification as { value: Leader };
    const mine = run.messages.at(-1)!.notification as { value: { token: number; node: string } };
    expect(leader.value).toMatchObject({
      id: 'a',
      token: mine.value.token,
      node: mine.value.node,
      sessionId: candidate.sessionId,
    });
  });

  it('reads an election run by Curator (plain latch- nodes, the id as data)', async () => {
    const observer = zk.client();
    const java = zk.client();
    const seen = zk.record(leader$(observer, '/e').pipe(ids));
    zk.at(
      10,
      () =>
        void java.create('/e/latch-', 'java-1', {
          mode: 'ephemeral-sequential',
          protect: false,
          createParents: true,
        }),
    );
    zk.at(
      20,
      () =>
        void java.create('/e/_c_0f2e5f0c-1c5e-4e4a-9f7a-3c1d2b4a5e6f-latch-', 'java-2', {
          mode: 'ephemeral-sequential',
          protect: false,
        }),
    );
    zk.faults(java, '50ms x');
    await zk.advance(100);
    zk.expect(seen).toBe('n 9ms a 39ms n', { n: null, a: 'java-1' });
  });

  it('follows the leader across its own session expiry', async () => {
    const observer = zk.client();
    const seen = zk.record(leader$(observer, '/e').pipe(ids));
    zk.record(leadership(zk.client(), '/e', { id: 'a' }), '10ms ^');
    zk.at(
      30,
      () => void zk.writer.create('/e/latch-', 'z', { mode: 'ephemeral-sequential', protect: false }),
    );
    zk.faults(observer, '50ms x');
    await zk.advance(200);
    zk.expect(seen).toBe('n 9ms a', { n: null, a: 'a' });
    expect(zk.server.watchesByPath().size).toBeGreaterThan(0);
  });
});
