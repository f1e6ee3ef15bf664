/** config$, configUpdates$ and updateConfig on virtual time. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { config$, configUpdates$, DecodeError, updateConfig, type ConfigUpdate } from '../../src/index.js';
import { map } from 'rxjs';
import { VirtualZooKeeper } from '../../src/testing/index.js';

let zk: VirtualZooKeeper;
beforeEach(() => {
  zk = new VirtualZooKeeper({ assert: (actual, expected) => expect(actual).toEqual(expected) });
});
afterEach(() => zk.close());

const parse = (text: string): { limit: number } => {
  const value = JSON.parse(text) as { limit: number };
  if (typeof value.limit !== 'number') throw new Error('limit must be a number');
  return value;
};

describe('config$', () => {
  it('keeps the last valid value through an invalid update, which is reported; a default when missing', async () => {
    const c = zk.client();
    const invalid: string[] = [];
    const seen = zk.record(
      config$(c, '/cfg', parse, {
        default: { limit: 0 },
        onInvalid: (e) => invalid.push(`${zk.now}:${e.name}`),
      }).pipe(map((v) => v.limit)),
    );
    zk.at(10, () => void zk.writer.create('/cfg', '{"limit":1}'));
    zk.at(20, () => void zk.writer.set('/cfg', '{broken'));
    zk.at(30, () => void zk.writer.set('/cfg', '{"limit":"x"}'));
    zk.at(40, () => void zk.writer.set('/cfg', '{"limit":2}'));
    zk.at(50, () => void zk.writer.delete('/cfg'));
    await zk.advance(100);
    zk.expect(seen).toBe('d 9ms a 29ms b 9ms d', { d: 0, a: 1, b: 2 });
    expect(invalid).toEqual(['20:DecodeError', '30:DecodeError']);
  });

  it('without a default, a missing node yields nothing', async () => {
    const c = zk.client();
    const seen = zk.record(config$(c, '/cfg', parse).pipe(map((v) => v.limit)));
    zk.at(10, () => void zk.writer.create('/cfg', '{"limit":1}'));
    zk.at(20, () => void zk.writer.delete('/cfg'));
    await zk.advance(50);
    zk.expect(seen).toBe('10ms a', { a: 1 });
  });

  it('configUpdates$ reports every kind as a typed value', async () => {
    const c = zk.client();
    const seen = zk.record(
      configUpdates$(c, '/cfg', parse).pipe(
        map((u: ConfigUpdate<{ limit: number }>) =>
          u.type === 'invalid' ? u.error instanceof DecodeError : u.type,
        ),
      ),
    );
    zk.at(10, () => void zk.writer.create('/cfg', 'nope'));
    zk.at(20, () => void zk.writer.set('/cfg', '{"limit":3}'));
    await zk.advance(50);
    zk.expect(seen).toBe('m 9ms i 9ms v', { m: 'missing', i: true, v: 'value' } as never);
  });
});

describe('updateConfig', () => {
  it('creates a missing node, then compare-and-sets; concurrent updates all land', async () => {
    const c = zk.client();
    const d = zk.client();
    const codec = { decode: parse, encode: (v: { limit: number }) => JSON.stringify(v) };
    const bump = (client: typeof c) =>
      updateConfig(client, '/cfg', (v) => ({ limit: (v?.limit ?? 0) + 1 }), codec);
    const all = Promise.all([bump(c), bump(d), bump(c), bump(d)]);
    await zk.advance(100);
    const results = await all;
    expect(results.map((r) => r.value.limit).sort()).toEqual([1, 2, 3, 4]);
    const final = zk.writer.get('/cfg');
    await zk.advance(1);
    expect(JSON.parse((await final).data.toString())).toEqual({ limit: 4 });
  });
});
