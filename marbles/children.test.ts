/** children$, stat$ and tree$ on virtual time. */
import { map } from 'rxjs';
import { describe, it } from 'vitest';
import { children$, stat$, tree$, treeEvents$, type TreeEvent } from '../src/index.js';
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
