import { debounceTime, distinctUntilChanged, map } from 'rxjs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { data$, type ZkClient } from '../src/index.js';
import { VirtualZooKeeper } from '../src/testing/index.js';

// The code under test: a feature flag kept in ZooKeeper, counted once it has settled for 50 ms.
const darkMode$ = (client: ZkClient) =>
  data$(client, '/flags/dark-mode').pipe(
    map((node) => node?.data.toString() === 'on'),
    debounceTime(50, client.scheduler),
    distinctUntilChanged(),
  );

let zk: VirtualZooKeeper;
beforeEach(() => {
  zk = new VirtualZooKeeper({ assert: (actual, expected) => expect(actual).toEqual(expected) });
});
afterEach(() => zk.close());

it('follows the flag through a flicker and a session expiry, on virtual time', async () => {
  const client = zk.client({ sessionTimeout: 1_000 });
  await zk.seed({ '/flags/dark-mode': 'off' });
  const seen = zk.record(darkMode$(client));
  zk.at(100, () => void zk.writer.set('/flags/dark-mode', 'on'));
  zk.at(120, () => void zk.writer.set('/flags/dark-mode', 'off')); // a flicker: never seen
  zk.at(300, () => void zk.writer.set('/flags/dark-mode', 'on'));
  zk.faults(client, '400ms x'); // the server expires the session at 400; the stream heals
  zk.at(450, () => void zk.writer.set('/flags/dark-mode', 'off'));
  await zk.advance(1_000); // a second of virtual time, in milliseconds of real time
  zk.expect(seen).toBe('50ms f 299ms t 149ms f', { f: false, t: true });
});
