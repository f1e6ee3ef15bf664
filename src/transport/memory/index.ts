/** The in-memory ZooKeeper: the embedded default transport and the engine behind marble tests. */
import type { Transport } from '../port.js';
import type { MemoryZooKeeper } from './server.js';

export { MemoryZooKeeper, memoryServerOf, type MemoryZooKeeperOptions } from './server.js';

/** The transport of `server`: each handle opened through it is a session on that server. */
export function memoryTransport(server: MemoryZooKeeper): Transport {
  return server.transport;
}
