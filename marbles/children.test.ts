/** children$, stat$ and tree$ on virtual time. */
import { map } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import {
  children$,
  NoAuthError,
  Perms,
  stat$,
  tree$,
  treeEvents$,
  type Stat,
  type TreeEvent,
} from '../src/index.js';
import { digestId } from '../src/transport/memory/acl.js';
import { virtualSuite } from './support/virtual.js';

const zk = virtualSuite();

describe('children$', () => {
  it('emits sorted names on add and remove, null while the parent is missing, and its re-creation', async () => {
    const client = zk().client();
    await zk().seed({ '/p/b': '', '/p/a': '' });
    const seen = zk().record(children$(client, '/p').pipe(map((c) => c?.children.join(',') ?? null)));
    zk().at(10, () => void zk().writer.create('/p/c', ''));
    zk().at(20, () => void zk().writer.delete('/p/a'));
    zk().at(30, async () => {
      await zk().writer.delete('/p/b');
      await zk().writer.delete('/p/c');
      await zk().writer.delete('/p');
    });
    zk().at(40, () => void zk().writer.create('/p', ''));
    await zk().advance(100);
    zk().expect(seen).toBe('a 9ms b 9ms c 9ms (de) 6ms f', {
      a: 'a,b',
      b: 'a,b,c',
      c: 'b,c',
      d: 'c', // the deletes of frame 30 land one by one: each child watch fires before the next delete
      e: null,
      f: '',
    });
  });
});

describe('stat$', () => {
  it('follows creation, data changes and deletion', async () => {
    const client = zk().client();
    const seen = zk().record(stat$(client, '/s').pipe(map((s) => (s ? `v${s.version}` : null))));
    zk().at(10, () => void zk().writer.create('/s', 'x'));
    zk().at(20, () => void zk().writer.set('/s', 'y'));
    zk().at(30, () => void zk().writer.delete('/s'));
    await zk().advance(50);
    zk().expect(seen).toBe('n 9ms a 9ms b 9ms n', { n: null, a: 'v0', b: 'v1' });
  });

  // FAULTS.md row 13: exists() checks no ACL, and the node's events go only to sessions that may READ it.
  it('fails with NoAuthError on a node it may not READ (it would hear nothing more), leaving no watch armed', async () => {
    const acl = [{ perms: Perms.All, scheme: 'digest', id: digestId('alice:pw') }];
    const alice = zk().client({ auth: [{ scheme: 'digest', credentials: 'alice:pw' }] });
    const stranger = zk().client();
    zk().at(0, () => void alice.create('/s', 'x', { acl }));
    const version = map((s: Stat | null) => (s ? `v${s.version}` : null));
    const rs = zk().record(stat$(stranger, '/s'), '10ms ^');
    const ra = zk().record(stat$(alice, '/s').pipe(version), '10ms ^');
    // Missing, it is null for anyone. Created unreadable, it is never heard of: ZooKeeper withholds
    // the creation from a session that may not READ the node (data$ and children$ alike).
    const late = zk().record(stat$(stranger, '/later').pipe(version));
    zk().at(20, () => void alice.set('/s', 'y'));
    zk().at(30, () => void alice.create('/later', '', { acl }));
    await zk().advance(50);
    zk()
      .expect(rs)
      .toBe('10ms #', undefined, new NoAuthError({ path: '/s' }));
    zk().expect(ra).toBe('10ms a 9ms b', { a: 'v0', b: 'v1' });
    zk().expect(late).toBe('n', { n: null });
    expect(stranger.armedWatchCount, "only /later's, still subscribed").toBe(1);
  });

  it('one READ check per session and ACL version: a change costs one exists(), as before', async () => {
    await zk().seed({ '/s': 'x' });
    const client = zk().client();
    await zk().advance(1);
    const [exists, get, children] = [
      vi.spyOn(client, 'exists'),
      vi.spyOn(client, 'get'),
      vi.spyOn(client, 'children'),
    ];
    const seen = zk().record(stat$(client, '/s').pipe(map((s) => (s ? `v${s.version}` : null))));
    zk().at(10, () => void zk().writer.set('/s', 'y'));
    zk().at(20, () => void zk().writer.setACL('/s', [{ perms: Perms.All, scheme: 'world', id: 'anyone' }]));
    zk().at(30, () => void zk().writer.set('/s', 'z'));
    await zk().advance(50);
    zk().expect(seen).toBe('-a 8ms b 19ms c', { a: 'v0', b: 'v1', c: 'v2' });
    expect(exists).toHaveBeenCalledTimes(3);
    // The children (none) are the smaller read of a leaf; again after the ACL's new version.
    expect(children).toHaveBeenCalledTimes(2);
    expect(get).not.toHaveBeenCalled();
  });

  it('the READ check reads the data when that is smaller than the children would be', async () => {
    await zk().seed({ '/p/a': '', '/p/b': '', '/p/c': '' });
    const client = zk().client();
    await zk().advance(1);
    const [get, children] = [vi.spyOn(client, 'get'), vi.spyOn(client, 'children')];
    const seen = zk().record(stat$(client, '/p').pipe(map((s) => s?.numChildren)));
    await zk().advance(10);
    zk().expect(seen).toBe('-a', { a: 3 });
    expect([get.mock.calls.length, children.mock.calls.length]).toEqual([1, 0]);
  });
});

describe('tree$ and treeEvents$', () => {
  const describeEvent = (e: TreeEvent): string =>
    e.type === 'initialized' ? 'init' : `${e.type} ${e.node.path}`;

  it('primes the subtree, marks initialized, then reports each change as an event and a snapshot', async () => {
    const client = zk().client();
    await zk().seed({ '/t/a': '1', '/t/a/x': '2' });
    const events = zk().record(treeEvents$(client, '/t').pipe(map(describeEvent)));
    const sizes = zk().record(tree$(client, '/t').pipe(map((t) => t.nodes.size)));
    zk().at(10, () => void zk().writer.create('/t/b', '3'));
    zk().at(20, () => void zk().writer.set('/t/a/x', '4'));
    zk().at(30, () => void zk().writer.delete('/t/a/x'));
    await zk().advance(50);
    zk().expect(events).toBe('(abcd) 4ms e 9ms f 9ms g', {
      a: 'added /t',
      b: 'added /t/a',
      c: 'added /t/a/x',
      d: 'init',
      e: 'added /t/b',
      f: 'updated /t/a/x',
      g: 'removed /t/a/x',
    });
    zk().expect(sizes).toBe('a 9ms b 9ms b 9ms c', { a: 3, b: 4, c: 3 }); // the update is a new snapshot
  });

  it('re-primes after session expiry and reports only what changed meanwhile', async () => {
    const client = zk().client();
    await zk().seed({ '/u/a': '1' });
    const events = zk().record(treeEvents$(client, '/u').pipe(map(describeEvent)));
    // Expired while disconnected: the client learns it when the connection comes back (frame 310).
    zk().faults(client, '100ms s 199ms x 9ms r');
    zk().at(150, () => void zk().writer.create('/u/b', '2'));
    await zk().advance(400);
    zk().expect(events).toBe('(abc) 305ms d', {
      a: 'added /u',
      b: 'added /u/a',
      c: 'init',
      d: 'added /u/b',
    });
  });
});
