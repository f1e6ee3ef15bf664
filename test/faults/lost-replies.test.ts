/**
 * Fault matrix row 9 (issue 7): lost replies. The loopback proxy forwards a request to the server, then
 * resets the client's connection before the reply can reach it (`cutAfterRequest`): the request was
 * applied, the client cannot know. test/lost-reply.test.ts has the single cases.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CreateMode } from '../../src/index.js';
import { zkSuite } from '../support/fixture.js';
import { OpCode, startProxy, type ZkProxy } from '../support/proxy.js';

const zk = zkSuite({ tickTime: 500 });

const CREATES = [OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL];
const SESSION_TIMEOUT = 3_000;

let proxies: ZkProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  proxies = [];
});

describe('row 9: lost replies', () => {
  it('a request sent into the reset socket: both it and the cut create recover (no RuntimeInconsistency)', async () => {
    const proxy = await startProxy(zk.server.connectString);
    proxies.push(proxy);
    const c = zk.client({ connectString: proxy.connectString, sessionTimeout: SESSION_TIMEOUT });
    await c.ready();
    for (let i = 0; i < 3; i++) {
      // The proxy resets the connection in its data callback; the read sent from that callback's
      // microtask goes out before the C client has read the reset: its send fails, and the C client
      // (ZOOKEEPER-4210) reconnects without failing the create it had sent. The create's and the read's
      // replies then come out of order on the new connection, and both requests fail with
      // RuntimeInconsistency: to rxzk a connection loss, so the read is retried and the create recovered.
      let read: Promise<unknown> | undefined;
      const cut = proxy.cutAfterRequest(CREATES, 20_000).then(() => {
        read = c.exists(zk.root);
      });
      const created = await c.create(`${zk.root}/job-`, `${i}`, { mode: CreateMode.PersistentSequential });
      await cut;
      expect(await read).not.toBeNull();
      const { children } = await c.children(zk.root);
      expect(children.filter((n) => n.endsWith(created.slice(-10)))).toHaveLength(1);
      expect(children).toHaveLength(i + 1);
    }
  });
});
