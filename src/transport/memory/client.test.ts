/** The engine under the session layer: connect() with the memory transport, on real and virtual time. */
import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { connect } from '../../session/connect.js';
import type { SessionState } from '../../session/state.js';
import type { WatchEvent } from '../../types.js';
import { memoryTransport, MemoryZooKeeper } from './index.js';

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('connect() over the memory transport', () => {
  it('runs operations, chroot included, on asyncScheduler', async () => {
    const server = new MemoryZooKeeper();
    const admin = connect('inproc:1', { transport: memoryTransport(server) });
    await admin.create('/app');
    const client = connect('inproc:1/app', { transport: server.transport });
    expect(await client.create('/lock-', 'x', { mode: 'ephemeral-sequential' })).toMatch(
      /^\/_c_[0-9a-f-]{36}-lock-0000000000$/,
    );
    expect((await admin.children('/app')).children).toHaveLength(1);
    const seen: WatchEvent[] = [];
    await client.get('/', { watch: (e) => seen.push(e) });
    await admin.set('/app', 'changed');
    await expect.poll(() => seen).toEqual([{ type: 'changed', path: '/' }]);
    await client.close();
    await drain();
    expect((await admin.children('/app')).children).toEqual([]);
    await admin.close();
    expect(server.sessions()).toEqual([]);
    expect(server.watchCount()).toBe(0);
    server.close();
  });

  it('a watch whose event follows its reply at once is not lost by the client watch table', async () => {
    const server = new MemoryZooKeeper();
    const reader = connect('inproc:1', { transport: server.transport });
    const writer = connect('inproc:1', { transport: server.transport });
    await writer.create('/n', '0');
    await reader.ready();
    for (let i = 1; i <= 20; i++) {
      const seen: WatchEvent[] = [];
      // The write lands right after the read on the server: its event is queued just behind the reply.
      const reading = reader.get('/n', { watch: (e) => seen.push(e) });
      void writer.set('/n', String(i));
      await reading;
      await expect.poll(() => seen).toEqual([{ type: 'changed', path: '/n' }]);
    }
    await reader.close();
    await writer.close();
    server.close();
  });

  it('on a TestScheduler: connected, suspended, reconnected; then lost after a long suspension and a new session', async () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const server = new MemoryZooKeeper({ scheduler, tickTime: 1000 });
    const at = async (frame: number) => {
      await drain();
      scheduler.schedule(() => undefined, frame - scheduler.now());
      scheduler.maxFrames = frame;
      scheduler.flush();
      await drain();
    };
    const client = connect('inproc:1', { transport: server.transport, scheduler, sessionTimeout: 4000 });
    const states: SessionState['type'][] = [];
    client.state$.subscribe((s) => states.push(s.type));
    await at(0);
    const first = client.sessionId!;
    expect(states).toEqual(['connecting', 'connected']);
    await client.create('/e', '', { mode: 'ephemeral' });
    server.suspend(first);
    await at(100);
    server.restore(first);
    await at(200);
    expect(states).toEqual(['connecting', 'connected', 'suspended', 'reconnected']);
    server.suspend(first);
    // The client gives the session up after its timeout; the server expires it at the next tick after.
    await at(4_200);
    expect(states.slice(-2)).toEqual(['lost', 'connected']);
    expect(server.ephemerals(first)).toEqual(['/e']);
    await at(5_000);
    expect(server.ephemerals(first)).toEqual([]);
    expect(server.sessions()).toEqual([client.sessionId]);
    expect(client.sessionId).not.toBe(first);
    await client.close();
    server.close();
    expect(scheduler.actions).toEqual([]);
  });
});
