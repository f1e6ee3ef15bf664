/**
 * The contract suite against a real ZooKeeper server: the reference the in-memory engine must match.
 * Each client connects through its own loopback proxy so that its connection alone can be dropped.
 */
import { afterEach, expect } from 'vitest';
import type { ZkClient } from '../src/index.js';
import { expireSession } from '../src/testing/index.js';
import { aclContract } from './contract/acl.contract.js';
import { namingContract } from './contract/naming.contract.js';
import { operationsContract } from './contract/operations.contract.js';
import { reapingContract } from './contract/reaping.contract.js';
import { recursiveWatchesContract } from './contract/recursive-watches.contract.js';
import { sessionsContract } from './contract/sessions.contract.js';
import { statContract } from './contract/stat.contract.js';
import { stateOf, type ContractTarget } from './contract/target.js';
import { watchesContract } from './contract/watches.contract.js';
import { eventually, zkSuite } from './support/fixture.js';
import { watchCount } from './support/fourLetter.js';
import { startProxy, type ZkProxy } from './support/proxy.js';

/** The server's container/TTL reaper interval (a JVM system property; ZooKeeper's default is 60 s). */
const REAP_INTERVAL_MS = 1_000;

// tickTime 500 lets sessions be as short as 1 s; the harness enables TTL nodes (extendedTypesEnabled).
const zk = zkSuite({
  tickTime: 500,
  jvmFlags:
    '-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData ' +
    `-Dznode.container.checkIntervalMs=${REAP_INTERVAL_MS}`,
});

const proxies = new Map<ZkClient, ZkProxy>();

function proxyOf(client: ZkClient): ZkProxy {
  const proxy = proxies.get(client);
  if (!proxy) throw new Error('not a client of this target');
  return proxy;
}

const target: ContractTarget = {
  name: 'real',
  get root() {
    return zk.root;
  },
  async client(options = {}) {
    const proxy = await startProxy(zk.server.connectString);
    const { chroot = '', ...connectOptions } = options;
    const client = zk.client({ ...connectOptions, connectString: `${proxy.connectString}${chroot}` });
    proxies.set(client, proxy);
    await client.ready();
    return client;
  },
  async expire(client) {
    await expireSession(client);
  },
  async disconnect(client) {
    const proxy = proxyOf(client);
    // Refuse first: the client must not get straight back in after the reset.
    await proxy.refuse();
    await proxy.reset();
    await stateOf(client, (s) => s.type === 'suspended');
  },
  async reconnect(client) {
    await proxyOf(client).pass();
    await stateOf(client, (s) => s.type === 'reconnected' || s.type === 'connected');
  },
  // Data and child watches (mntr's zk_watch_count; wchs counts data watches only).
  watchCount: () => watchCount(zk.connectString),
};

// Clients first (their close must reach the server through their proxy), then the proxies.
afterEach(async () => {
  const open = [...proxies];
  proxies.clear();
  for (const [, proxy] of open) await proxy.pass();
  await Promise.all(open.map(([client]) => client.close()));
  // A session closes once its closeSession request got through: wait (bounded) for the sockets to go.
  await eventually(() => expect(open.filter(([, proxy]) => proxy.stats.active > 0)).toEqual([]), 5_000).catch(
    () => undefined,
  );
  await Promise.all(open.map(([, proxy]) => proxy.close()));
});

const t = () => target;
operationsContract(t);
statContract(t);
namingContract(t);
watchesContract(t);
recursiveWatchesContract(t);
sessionsContract(t);
aclContract(t);
reapingContract(t, REAP_INTERVAL_MS);
