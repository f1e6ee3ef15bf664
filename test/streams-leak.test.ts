/** 100,000 subscribe/unsubscribe cycles: heap and server watches come back to their baseline. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { data$ } from '../src/index.js';
import { liveStreamCount } from '../src/testing/index.js';
import { watchCount } from './support/fourLetter.js';
import { eventually, zkSuite } from './support/fixture.js';

const zk = zkSuite();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('stream leaks', () => {
  it(
    '100,000 subscribe/unsubscribe cycles over existing and missing paths',
    { timeout: 180_000 },
    async () => {
      const c = zk.client();
      const existing = Array.from({ length: 50 }, (_, i) => `${zk.root}/e${i}`);
      const missing = Array.from({ length: 50 }, (_, i) => `${zk.root}/m${i}`);
      await Promise.all(existing.map((p) => c.create(p, 'x')));
      const paths = [...existing, ...missing];
      // Each round: every path gets a subscriber, its first value, and an unsubscribe (100 cycles).
      const round = () => Promise.all(paths.map((p) => firstValueFrom(data$(c, p))));
      for (let i = 0; i < 50; i++) await round(); // warm-up: JIT, pools
      await eventually(async () => expect(await watchCount(zk.connectString)).toBe(0));
      const baseHeap = heapUsed();
      const started = Date.now();
      const rounds = 1_000;
      for (let i = 0; i < rounds; i++) await round();
      const seconds = (Date.now() - started) / 1000;
      expect(liveStreamCount(c)).toBe(0);
      // Removals of the last round's watches may still be in flight.
      await eventually(() => expect(c.armedWatchCount).toBe(0));
      await eventually(async () => expect(await watchCount(zk.connectString)).toBe(0));
      const grown = heapUsed() - baseHeap;
      console.log(
        `stream leak: ${rounds * paths.length} cycles in ${seconds.toFixed(1)} s; heap ${(baseHeap / 1e6).toFixed(1)} MB -> +${(grown / 1e6).toFixed(2)} MB; server watches 0 -> 0`,
      );
      expect(grown).toBeLessThan(8e6);
    },
  );
});
