/** count$, trySet, increment and uniqueName on virtual time. */
import { map } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { count$, increment, InvalidArgumentError, trySet, uniqueName } from '../../src/index.js';
import { VirtualZooKeeper } from '../../src/testing/index.js';

let zk: VirtualZooKeeper;
beforeEach(() => {
  zk = new VirtualZooKeeper({ assert: (actual, expected) => expect(actual).toEqual(expected) });
});
afterEach(() => zk.close());

async function settled<T>(work: Promise<T>): Promise<T> {
  await zk.advance(20);
  return work;
}

describe('shared counter', () => {
  it('stores Curator SharedCount bytes (4-byte big-endian int) and compare-and-sets by version', async () => {
    const c = zk.client();
    const seen = zk.record(count$(c, '/n').pipe(map((v) => (v === null ? null : `${v.value}@${v.version}`))));
    expect(await settled(trySet(c, '/n', 258, null))).toBe(true);
    expect(await settled(trySet(c, '/n', 1, null))).toBe(false);
    expect(await settled(trySet(c, '/n', -5, { version: 0 }))).toBe(true);
    expect(await settled(trySet(c, '/n', 7, { version: 0 }))).toBe(false);
    const raw = await settled(zk.writer.get('/n'));
    expect([...raw.data]).toEqual([0xff, 0xff, 0xff, 0xfb]);
    // The counter's first read comes after the create sent in the same frame.
    zk.expect(seen).toBe('a 39ms b', { a: '258@0', b: '-5@1' });
  });

  it('concurrent increments from several clients lose no update', async () => {
    const clients = Array.from({ length: 5 }, () => zk.client());
    const all = Promise.all(clients.flatMap((c) => Array.from({ length: 10 }, () => increment(c, '/n'))));
    await zk.advance(5_000);
    const results = await all;
    expect(new Set(results).size).toBe(50);
    expect(Math.max(...results)).toBe(50);
  });

  it('wraps around as a Java int, and rejects values that are not one', async () => {
    const c = zk.client();
    await settled(trySet(c, '/n', 2 ** 31 - 1, null));
    expect(await settled(increment(c, '/n'))).toBe(-(2 ** 31));
    await expect(trySet(c, '/n', 2 ** 31, null)).rejects.toThrow(InvalidArgumentError);
    await expect(increment(c, '/n', 0.5)).rejects.toThrow(/'delta'/);
  });
});

describe('uniqueName', () => {
  it('hands out unique, ordered names and leaves no node behind', async () => {
    const c = zk.client();
    const d = zk.client();
    const names = Promise.all([
      uniqueName(c, '/names', 'job-'),
      uniqueName(d, '/names', 'job-'),
      uniqueName(c, '/names', 'job-'),
    ]);
    await zk.advance(50);
    const result = await names;
    expect(result.map((r) => r.name).sort()).toEqual(['job-0000000000', 'job-0000000001', 'job-0000000002']);
    expect(result.map((r) => r.sequence).sort()).toEqual([0, 1, 2]);
    // One client's names are ordered as it asked for them.
    expect(result[2]!.sequence).toBeGreaterThan(result[0]!.sequence);
    const left = await settled(zk.writer.children('/names'));
    expect(left.children).toEqual([]);
  });
});
