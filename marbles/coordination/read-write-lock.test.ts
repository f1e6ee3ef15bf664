/**
 * readLock() and writeLock() on virtual time: readers share, a writer excludes, readers wait only for
 * the nearest writer ahead; Curator's `__READ__` / `__WRIT__` node names.
 */
import { map, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { acquire } from '../../src/recipes/acquire.js';
import type { Ownership } from '../../src/recipes/ownership.js';
import { readLock, writeLock } from '../../src/recipes/read-write-lock.js';
import { virtualSuite } from '../support/virtual.js';

const zk = virtualSuite();
const V = { w: 'waiting', A: 'acquired', s: 'lost:suspended' };
const show: OperatorFunction<Ownership, string> = map((o) =>
  o.type === 'lost' ? `lost:${o.reason}` : o.type,
);

describe('readLock / writeLock', () => {
  it('readers share; a writer waits for them; readers after the writer wait for it', async () => {
    const [r1, r2, w, r3] = [zk().client(), zk().client(), zk().client(), zk().client()];
    const a = zk().record(readLock(r1, '/rw').pipe(show), '^ 49ms !');
    const b = zk().record(readLock(r2, '/rw').pipe(show), '10ms ^ 59ms !');
    const c = zk().record(writeLock(w, '/rw').pipe(show), '20ms ^ 79ms !');
    const d = zk().record(readLock(r3, '/rw').pipe(show), '30ms ^');
    await zk().advance(200);
    zk().expect(a).toBe('A', V);
    zk().expect(b).toBe('10ms A', V);
    // The writer holds once both readers are gone (70), the last reader once the writer is (100).
    zk().expect(c).toBe('20ms w 49ms A', V);
    zk().expect(d).toBe('30ms w 69ms A', V);
  });

  it('Curator layout, and a reader watches only the nearest writer ahead', async () => {
    const [w1, r1, w2, r2] = [zk().client(), zk().client(), zk().client(), zk().client()];
    zk().record(writeLock(w1, '/rw'));
    zk().record(readLock(r1, '/rw'), '10ms ^');
    zk().record(writeLock(w2, '/rw'), '20ms ^');
    zk().record(readLock(r2, '/rw'), '30ms ^');
    await zk().advance(50);
    const listing = zk().writer.children('/rw');
    await zk().advance(1);
    const names = (await listing).children.sort((x, y) => x.slice(-10).localeCompare(y.slice(-10)));
    expect(names.map((n) => n.replace(/^_c_[0-9a-f-]{36}-/, ''))).toEqual([
      '__WRIT__0000000000',
      '__READ__0000000001',
      '__WRIT__0000000002',
      '__READ__0000000003',
    ]);
    const watches = zk().server.watchesByPath();
    // r2 watches w2 (the nearest writer), not r1; r1 and w2 watch the node just ahead; each watches
    // its own node too.
    const ids = (...cs: (typeof w1)[]): string[] => cs.map((c) => c.sessionId!).sort();
    expect(watches.get(`/rw/${names[3]}`)?.sort()).toEqual(ids(r2));
    expect(watches.get(`/rw/${names[2]}`)?.sort()).toEqual(ids(w2, r2));
    expect(watches.get(`/rw/${names[1]}`)?.sort()).toEqual(ids(r1, w2));
    expect(watches.get(`/rw/${names[0]}`)?.sort()).toEqual(ids(w1, r1));
  });

  it("acquire({ type: 'read' }) and a writer's suspension", async () => {
    const [w, r] = [zk().client(), zk().client()];
    const rw = zk().record(writeLock(w, '/rw').pipe(show));
    zk().faults(w, '30ms s 49ms r');
    let at = -1;
    void acquire(r, '/rw', { type: 'read' }).then(() => (at = zk().now));
    zk().at(100, () => rw.unsubscribe());
    await zk().advance(200);
    zk().expect(rw).toBe('A 29ms s 49ms A', V);
    expect(at).toBe(100);
  });
});
