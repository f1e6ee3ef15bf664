/** join() and members$ on virtual time: joining, leaving, expiry, a node taken by an older session. */
import { map } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, join, members$, type Membership } from '../../src/index.js';
import { VirtualZooKeeper } from '../../src/testing/index.js';

let zk: VirtualZooKeeper;
beforeEach(() => {
  zk = new VirtualZooKeeper({ assert: (actual, expected) => expect(actual).toEqual(expected) });
});
afterEach(() => zk.close());

const types = map((m: Membership) => m.type);
const listing = map((m: ReadonlyMap<string, Buffer>) =>
  [...m].map(([id, data]) => `${id}=${data.toString()}`).join(','),
);

describe('join', () => {
  it('joins at once, survives expiry by joining again, and leaves on unsubscribe', async () => {
    const a = zk.client();
    const seen = zk.record(join(a, '/g', 'a', 'A').pipe(types), '^ 299ms !');
    const present = zk.probe(() => zk.server.sessions().flatMap((s) => zk.server.ephemerals(s)));
    zk.faults(a, '100ms x');
    await zk.advance(500);
    zk.expect(seen).toBe('j 99ms (lj)', { j: 'joined', l: 'lost' });
    expect(present.messages.map((m) => [m.frame, (m.notification as { value: string[] }).value])).toEqual([
      [0, []],
      [0, ['/g/a']],
      [100, []],
      [100, ['/g/a']],
      [300, []],
    ]);
  });

  it('waits while an older session still holds the id, then joins', async () => {
    const old = zk.client();
    await zk.advance(1);
    void old.create('/g/a', 'old', { mode: 'ephemeral', createParents: true });
    await zk.advance(1);
    const a = zk.client();
    const seen = zk.record(join(a, '/g', 'a', 'new').pipe(types));
    zk.at(50, () => void old.close());
    await zk.advance(100);
    zk.expect(seen).toBe('2ms w 47ms j', { w: 'waiting', j: 'joined' });
  });

  it('a node deleted by someone else is created again', async () => {
    const a = zk.client();
    const seen = zk.record(join(a, '/g', 'a').pipe(types));
    zk.at(20, () => void zk.writer.delete('/g/a'));
    await zk.advance(50);
    zk.expect(seen).toBe('j 19ms j', { j: 'joined' });
  });

  it('rejects a bad id by name', () => {
    const a = zk.client();
    expect(() => join(a, '/g', 'a/b')).toThrow(InvalidArgumentError);
    expect(() => join(a, '/g', '')).toThrow(/'id'/);
  });
});

describe('members$', () => {
  it('shows members joining and leaving, and a member that left with its session and joined again', async () => {
    const observer = zk.client();
    const b = zk.client();
    const seen = zk.record(members$(observer, '/g').pipe(listing));
    zk.record(join(zk.client(), '/g', 'a', 'A'), '10ms ^ 39ms !');
    zk.record(join(b, '/g', 'b', 'B'), '20ms ^');
    zk.faults(b, '80ms x');
    await zk.advance(200);
    zk.expect(seen).toBe('e 9ms a 9ms b 29ms c 29ms (ec)', { e: '', a: 'a=A', b: 'a=A,b=B', c: 'b=B' });
  });
});
