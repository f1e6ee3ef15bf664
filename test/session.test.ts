/** state$ against a real server: disconnects, expiry, partitions, each sequence checked end to end. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CreateMode, isValidTransition, type SessionState, type ZkClient } from '../src/index.js';
import { expireSession } from '../src/testing/index.js';
import { eventually, sleep, zkSuite } from './support/fixture.js';
import { startProxy } from './support/proxy.js';

// tickTime 500 lets sessions be as short as 1 s, so expiry scenarios take seconds, not minutes.
const zk = zkSuite({ tickTime: 500 });

/** Records every state with the time it arrived, and checks each transition is allowed. */
function record(client: ZkClient) {
  const states: { state: SessionState; at: number }[] = [];
  client.state$.subscribe((state) => {
    const previous = states.at(-1)?.state.type;
    if (previous) expect(isValidTransition(previous, state.type), `${previous} -> ${state.type}`).toBe(true);
    states.push({ state, at: Date.now() });
  });
  return {
    types: () => states.map((s) => s.state.type),
    last: () => states.at(-1)!.state,
    at: (type: SessionState['type'], from = 0) => states.slice(from).find((s) => s.state.type === type),
    get length() {
      return states.length;
    },
  };
}

describe('state$', () => {
  it('replays the current state to late subscribers and completes on close', async () => {
    const c = zk.client();
    await c.ready();
    const seen: string[] = [];
    let completed = false;
    c.state$.subscribe({ next: (s) => seen.push(s.type), complete: () => (completed = true) });
    expect(seen).toEqual(['connected']);
    await c.close();
    expect(seen).toEqual(['connected', 'closed']);
    expect(completed).toBe(true);
  });

  it('server stopped and restarted within the session timeout: suspended -> reconnected, same session', async () => {
    const c = zk.client({ sessionTimeout: 8_000 });
    const log = record(c);
    await c.ready();
    const sessionId = c.sessionId;
    const eph = await c.create(`${zk.root}/mine`, '', { mode: CreateMode.Ephemeral });
    await zk.server.stop();
    await eventually(() => expect(log.last().type).toBe('suspended'), 10_000);
    // A read issued while suspended waits for the connection instead of failing.
    const read = c.exists(eph);
    await zk.server.start();
    await eventually(() => expect(log.last().type).toBe('reconnected'), 15_000);
    expect(log.types()).toEqual(['connecting', 'connected', 'suspended', 'reconnected']);
    expect(log.last()).toMatchObject({ sessionId });
    expect((await read)?.ephemeralOwner).toBe(sessionId);
  });

  it('forced expiry: lost -> connected with a new session; the old ephemerals are gone', async () => {
    const c = zk.client({ sessionTimeout: 4_000 });
    const log = record(c);
    await c.ready();
    const oldSession = c.sessionId!;
    const eph = await c.create(`${zk.root}/eph`, '', { mode: CreateMode.Ephemeral });
    await expireSession(c);
    await eventually(() => expect(log.at('lost')).toBeDefined(), 15_000);
    await eventually(() => expect(log.last().type).toBe('connected'), 15_000);
    expect(log.at('lost')?.state).toEqual({ type: 'lost', sessionId: oldSession, reason: 'expired' });
    const newSession = c.sessionId;
    expect(newSession).toBeDefined();
    expect(newSession).not.toBe(oldSession);
    expect(await c.exists(eph)).toBeNull();
    // The client works on the new session.
    await c.create(`${zk.root}/after`, '', { mode: CreateMode.Ephemeral });
    expect((await c.exists(`${zk.root}/after`))?.ephemeralOwner).toBe(newSession);
  });

  it('blackhole longer than the session timeout: suspended -> lost by its own timer -> connected after', async () => {
    const proxy = await startProxy(zk.server.connectString);
    try {
      const sessionTimeout = 2_000;
      const c = zk.client({ connectString: proxy.connectString, sessionTimeout });
      const log = record(c);
      await c.ready();
      const oldSession = c.sessionId!;
      await proxy.blackhole();
      await eventually(() => expect(log.at('lost')).toBeDefined(), 10_000);
      const suspended = log.at('suspended')!;
      const lost = log.at('lost')!;
      expect(lost.state).toEqual({ type: 'lost', sessionId: oldSession, reason: 'timeout' });
      // Declared by the client's own timer one session timeout after suspension (no server to ask).
      expect(lost.at - suspended.at).toBeGreaterThanOrEqual(sessionTimeout - 50);
      expect(lost.at - suspended.at).toBeLessThan(sessionTimeout + 1_000);
      // Still partitioned: no session, and it stays `lost` (no impossible transitions meanwhile).
      await sleep(1_000);
      expect(log.last().type).toBe('lost');
      await proxy.reset();
      await proxy.pass();
      await eventually(() => expect(log.last().type).toBe('connected'), 20_000);
      expect(log.types()).toEqual(['connecting', 'connected', 'suspended', 'lost', 'connected']);
      expect(c.sessionId).not.toBe(oldSession);
      await c.close();
    } finally {
      await proxy.close();
    }
  });

  it('blackhole shorter than the session timeout: suspended -> reconnected, same session', async () => {
    const proxy = await startProxy(zk.server.connectString);
    try {
      const c = zk.client({ connectString: proxy.connectString, sessionTimeout: 6_000 });
      const log = record(c);
      await c.ready();
      const sessionId = c.sessionId;
      await proxy.blackhole();
      await eventually(() => expect(log.last().type).toBe('suspended'), 10_000);
      await proxy.reset();
      await proxy.pass();
      await eventually(() => expect(log.last().type).toBe('reconnected'), 10_000);
      expect(log.last()).toMatchObject({ sessionId });
      expect(log.types()).toEqual(['connecting', 'connected', 'suspended', 'reconnected']);
      await c.close();
    } finally {
      await proxy.close();
    }
  });

  it('a dropped connection is re-established promptly, time after time (the binding follows each new socket)', async () => {
    // Two binding patches (scripts/patch-zookeeper.mjs) are at stake. 8 keeps the poll running while
    // connected: a new socket after a drop often reuses the old fd number, and a poll that missed the
    // change would leave the client deaf until a timer. 10 passes on the C client's wait before it tries
    // a lone server again (recv_timeout/60, ~170 ms here): unpatched, the binding's timer kept the
    // connected session's interval and every drop after the first took 3.3 s to recover from.
    const proxy = await startProxy(zk.server.connectString);
    try {
      const c = zk.client({ connectString: proxy.connectString, sessionTimeout: 20_000 });
      const log = record(c);
      await c.ready();
      const sessionId = c.sessionId;
      const took: number[] = [];
      for (let i = 0; i < 10; i++) {
        const from = log.length;
        const t = Date.now();
        await proxy.reset();
        await eventually(() => expect(log.at('reconnected', from)).toBeDefined(), 15_000);
        took.push(log.at('reconnected', from)!.at - t);
        expect(await c.exists(zk.root)).not.toBeNull();
      }
      console.log(`10 drops: reconnected after ${took.join(', ')} ms`);
      expect(c.sessionId).toBe(sessionId);
      expect(Math.max(...took)).toBeLessThan(1_500);
    } finally {
      await proxy.close();
    }
  });

  it("a child process does not inherit the client's socket, and a client opened after a close connects", async () => {
    // Binding patch 11: the C client's sockets were not close-on-exec and a closing handle stopped its
    // poll after closing the socket, so a child holding a copy kept the dead socket's epoll registration
    // alive under a number the next client's socket reused: that client never connected.
    const c1 = zk.client();
    await c1.ready();
    const child = spawn('sleep', ['30'], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      await eventually(() => expect(child.pid).toBeDefined(), 5_000);
      const { readdirSync, readlinkSync } = await import('node:fs');
      // Its stdio (0-2) are socket pairs of its own; anything else it holds came from us.
      const inherited = readdirSync(`/proc/${child.pid}/fd`).filter((fd) => Number(fd) > 2);
      const links = inherited.map((fd) => {
        try {
          return readlinkSync(`/proc/${child.pid}/fd/${fd}`);
        } catch {
          return '';
        }
      });
      expect(links.filter((l) => l.startsWith('socket:'))).toEqual([]);
      await c1.close();
      const c2 = zk.client();
      await c2.ready();
      expect(await c2.exists(zk.root)).not.toBeNull();
    } finally {
      child.kill();
    }
  });

  it('a client told not to reconnect stays lost after expiry, and its operations fail bounded', async () => {
    const c = zk.client({ sessionTimeout: 4_000, reconnect: false, connectionTimeout: 500 });
    const log = record(c);
    await c.ready();
    await expireSession(c);
    await eventually(() => expect(log.last().type).toBe('lost'), 15_000);
    await sleep(500);
    expect(log.last().type).toBe('lost');
    await expect(c.get('/')).rejects.toMatchObject({ name: 'ConnectionLossError' });
  });
});

describe('close()', () => {
  it('has sent the session end when it resolves: a process exiting right after leaves no ephemeral behind', async () => {
    const path = `${zk.root}/left-behind`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/close-and-exit.ts', zk.connectString, path],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    // The child's session timeout is 30 s: a node still there now would wait for the server to expire it.
    const c = zk.client();
    await eventually(async () => expect(await c.exists(path)).toBeNull(), 2_000);
  });
});
