/**
 * enqueue() and queue() on virtual time: pull-based claims, ack, redelivery on unsubscribe and on a
 * consumer's expiry, at-most-once, bad payloads, with the server's view (items, claims) probed.
 */
import { concatMap, map, mergeMap, tap, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConnectionLossError, DataTooLargeError } from '../../src/index.js';
import { LockLostError, QueuePayloadError } from '../../src/recipes/coordination-errors.js';
import { enqueue } from '../../src/recipes/enqueue.js';
import { queue, type QueueItem } from '../../src/recipes/queue.js';
import type { Recording } from '../../src/testing/index.js';
import { virtualSuite, argumentOf } from '../support/virtual.js';

const zk = virtualSuite();
const text = (b: Buffer): string => b.toString();
const values = <T>(r: Recording<T>): T[] => r.messages.map((m) => (m.notification as { value: T }).value);

async function fill(...items: string[]): Promise<void> {
  const client = zk().writer;
  const done = (async () => {
    for (const item of items) await enqueue(client, '/q', item);
  })();
  await zk().settle();
  await done;
}

describe('queue (at-least-once)', () => {
  it('emits items in order, one claimed at a time: the next claim waits for ack', async () => {
    await fill('a', 'b', 'c');
    const consumer = zk().client();
    const seen = zk().record(
      queue(consumer, '/q', { mode: 'at-least-once', decode: text }).pipe(
        // Work takes 10 frames, then ack.
        concatMap((item) =>
          timer(10, zk().scheduler).pipe(
            mergeMap(() => item.ack()),
            map(() => item),
          ),
        ),
        map((item) => (item.type === 'item' ? item.value : '!')),
      ),
    );
    await zk().advance(100);
    zk().expect(seen).toBe('10ms a 9ms b 9ms c');
    const left = zk().writer.children('/q');
    await zk().advance(1);
    expect((await left).children).toEqual(['claims']);
  });

  it('pull: a consumer that has not settled its item holds only that one claim', async () => {
    await fill('a', 'b', 'c');
    const consumer = zk().client();
    const items = zk().record(queue(consumer, '/q', { mode: 'at-least-once', decode: text }));
    await zk().advance(50);
    expect(values(items).map((i) => (i.type === 'item' ? i.value : '!'))).toEqual(['a']);
    const claims = zk().writer.children('/q/claims');
    await zk().advance(1);
    expect((await claims).children).toHaveLength(1);
  });

  it('concurrency: n items claimed at once', async () => {
    await fill('a', 'b', 'c');
    const consumer = zk().client();
    const items = zk().record(queue(consumer, '/q', { mode: 'at-least-once', decode: text, concurrency: 2 }));
    await zk().advance(50);
    expect(values(items).map((i) => (i.type === 'item' ? i.value : '!'))).toEqual(['a', 'b']);
  });

  it('two consumers never hold the same item; each gets the next unclaimed one', async () => {
    await fill('a', 'b', 'c', 'd');
    const [x, y] = [zk().client(), zk().client()];
    const rx = zk().record(queue(x, '/q', { mode: 'at-least-once', decode: text }).pipe(map(show)));
    const ry = zk().record(queue(y, '/q', { mode: 'at-least-once', decode: text }).pipe(map(show)));
    await zk().advance(50);
    expect([...values(rx), ...values(ry)].sort()).toEqual(['a', 'b']);
  });

  it('redelivery: a consumer that unsubscribes before ack releases its item to the next consumer', async () => {
    await fill('a', 'b');
    const [x, y] = [zk().client(), zk().client()];
    zk().record(queue(x, '/q', { mode: 'at-least-once', decode: text }).pipe(map(show)), '^ 29ms !');
    const ry = zk().record(
      queue(y, '/q', { mode: 'at-least-once', decode: text }).pipe(
        concatMap((item) =>
          timer(50, zk().scheduler).pipe(
            mergeMap(() => item.ack()),
            map(() => show(item)),
          ),
        ),
      ),
      '10ms ^',
    );
    await zk().advance(300);
    // y claimed b at 10 (a was x's), acked it at 60, then pulled a, released by x at 30: acked at 110.
    zk().expect(ry).toBe('60ms b 49ms a');
  });

  it('redelivery: a consumer whose session expires before ack releases its item', async () => {
    await fill('a');
    const [x, y] = [zk().client(), zk().client()];
    const rx = zk().record(queue(x, '/q', { mode: 'at-least-once', decode: text }));
    const ry = zk().record(queue(y, '/q', { mode: 'at-least-once', decode: text }).pipe(map(show)), '10ms ^');
    zk().faults(x, '100ms x');
    await zk().advance(300);
    zk().expect(ry).toBe('100ms a');
    // x's late ack is refused: the item is y's now.
    const [late] = values(rx);
    const acked = late!.ack().then(
      () => 'acked',
      (e: unknown) => e,
    );
    await zk().advance(10);
    expect(await acked).toBeInstanceOf(LockLostError);
    const items = zk().writer.children('/q');
    await zk().advance(1);
    expect((await items).children.filter((n) => n.includes('qn-'))).toHaveLength(1);
  });

  it('release(): the item goes back to the head of the queue', async () => {
    await fill('a', 'b');
    const consumer = zk().client();
    const seen: string[] = [];
    zk().record(
      queue(consumer, '/q', { mode: 'at-least-once', decode: text }).pipe(
        tap((item) => seen.push(show(item))),
        concatMap((item) => (seen.length === 1 ? item.release() : item.ack())),
      ),
    );
    await zk().advance(100);
    expect(seen).toEqual(['a', 'a', 'b']);
  });

  it('waits while empty and delivers what is enqueued later', async () => {
    const consumer = zk().client();
    const seen = zk().record(
      queue(consumer, '/q', { mode: 'at-least-once', decode: text }).pipe(
        concatMap((item) => item.ack().then(() => show(item))),
      ),
    );
    zk().at(40, () => void enqueue(zk().writer, '/q', 'late'));
    await zk().advance(100);
    zk().expect(seen).toBe('40ms l', { l: 'late' });
  });

  it('a bad payload is an invalid item with a typed error, not a lost item and not a stream error', async () => {
    await fill('{"n":1}', 'not json', '{"n":3}');
    const consumer = zk().client();
    const seen = zk().record(
      queue(consumer, '/q', {
        mode: 'at-least-once',
        decode: (b) => JSON.parse(b.toString()) as { n: number },
      }).pipe(
        tap((item) => {
          if (item.type === 'invalid') {
            expect(item.error).toBeInstanceOf(QueuePayloadError);
            expect(item.error.data.toString()).toBe('not json');
          }
        }),
        concatMap((item) =>
          item.ack().then(() => (item.type === 'item' ? item.value.n : item.data.toString())),
        ),
      ),
    );
    await zk().advance(50);
    expect(values(seen)).toEqual([1, 'not json', 3]);
    expect(seen.messages.every((m) => m.notification.kind === 'N')).toBe(true);
  });

  // An ack's delete whose reply is lost with the connection (fault matrix row 3: a server restarted
  // under an ack): `landed` says whether it reached the server first. Either way its outcome is
  // unknown to the consumer, and the item must neither stay behind the consumer's live claim (never
  // redelivered, never consumed) nor leave that claim behind.
  for (const landed of [false, true]) {
    it(`ack: a delete ${landed ? 'that landed' : 'that never got out'} but lost its reply is sent again; each item consumed once, nothing left`, async () => {
      await fill('a', 'b');
      const consumer = zk().client();
      const remove = consumer.delete.bind(consumer);
      let lose = true;
      consumer.delete = ((path: string, version?: number) => {
        if (!lose || !path.includes('qn-')) return remove(path, version);
        lose = false;
        const lost = (): Promise<void> => Promise.reject(new ConnectionLossError({ path }));
        return landed ? remove(path, version).then(lost) : lost();
      }) as typeof consumer.delete;
      const seen = zk().record(
        queue(consumer, '/q', { mode: 'at-least-once', decode: text }).pipe(
          concatMap((item) =>
            item.ack().then(
              () => show(item),
              (error: unknown) => `ack failed: ${String(error)}`,
            ),
          ),
        ),
      );
      await zk().advance(500);
      expect(values(seen)).toEqual(['a', 'b']);
      const [items, claims] = [zk().writer.children('/q'), zk().writer.children('/q/claims')];
      await zk().advance(1);
      expect((await items).children).toEqual(['claims']);
      expect((await claims).children).toEqual([]);
    });
  }
});

// An enqueue whose create landed but lost its reply (fault matrix row 3: a server stopped before
// replying), and the item taken by a consumer before the producer looks for it by its GUID: ZooKeeper
// keeps nothing of a deleted node, so the producer cannot tell it from a create that never landed.
describe('enqueue after a lost reply', () => {
  async function lostReply(taken: boolean, onLostReply?: 'retry' | 'reject') {
    const producer = zk().client();
    await zk().advance(1);
    const handle = producer.currentHandle()!;
    const create = handle.create.bind(handle);
    let sent: string | undefined;
    // The item's first create that lands loses its reply (not the queue node's, nor one that finds
    // the queue node missing).
    handle.create = (request) =>
      create(request).then(async (created) => {
        if (!request.path.includes('qn-')) return created;
        handle.create = create;
        sent = request.path;
        if (taken) await zk().writer.delete(created.path);
        throw new ConnectionLossError({ path: request.path });
      });
    const result = enqueue(producer, '/q', 'job', onLostReply ? { onLostReply } : {}).then(
      (path) => ({ path }),
      (error: unknown) => ({ error }),
    );
    // Past the retry's backoff.
    await zk().advance(5_000);
    const left = zk().writer.children('/q');
    await zk().advance(1);
    return { result: await result, sent: sent!, left: (await left).children };
  }

  it('found by its GUID: resolves to the node that landed, whatever onLostReply says', async () => {
    for (const onLostReply of ['retry', 'reject'] as const) {
      const { result, sent, left } = await lostReply(false, onLostReply);
      expect(result).toEqual({ path: expect.stringMatching(/^\/q\/_c_[0-9a-f-]{36}-qn-\d{10}$/) });
      expect((result as { path: string }).path.startsWith(sent)).toBe(true);
      expect(left).toEqual([(result as { path: string }).path.slice(3)]);
      await zk().writer.delete((result as { path: string }).path);
    }
  });

  it("taken before the search, 'retry' (default): sent again, so the payload is enqueued twice under one GUID", async () => {
    const { result, sent, left } = await lostReply(true);
    expect((result as { path: string }).path.startsWith(sent)).toBe(true);
    expect(left).toHaveLength(1);
    expect(`/q/${left[0]!}`.startsWith(sent)).toBe(true);
  });

  it("taken before the search, 'reject': ConnectionLossError naming the name sent, nothing enqueued again", async () => {
    const { result, sent, left } = await lostReply(true, 'reject');
    const { error } = result as { error: ConnectionLossError };
    expect(error).toBeInstanceOf(ConnectionLossError);
    expect(error.path).toBe(sent);
    expect(sent).toMatch(/^\/q\/_c_[0-9a-f-]{36}-qn-$/);
    expect(left).toEqual([]);
  });

  it("'reject' is checked before anything is sent: another value is an InvalidArgumentError naming it", async () => {
    const producer = zk().client();
    await zk().advance(1);
    await expect(enqueue(producer, '/q', 'job', { onLostReply: 'twice' as never })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'options.onLostReply',
    });
    const left = zk().writer.exists('/q');
    await zk().advance(1);
    expect(await left).toBeNull();
  });
});

describe('queue (at-most-once)', () => {
  it('the delete is the claim: each item goes to exactly one consumer, in order', async () => {
    await fill('a', 'b', 'c', 'd', 'e', 'f');
    const [x, y] = [zk().client(), zk().client()];
    const consume = (c: typeof x) =>
      zk().record(
        queue(c, '/q', { mode: 'at-most-once', decode: text }).pipe(
          concatMap((item) =>
            timer(10, zk().scheduler).pipe(
              mergeMap(() => item.ack()),
              map(() => show(item)),
            ),
          ),
        ),
      );
    const [rx, ry] = [consume(x), consume(y)];
    await zk().advance(200);
    const all = [...values(rx), ...values(ry)];
    expect(all.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    for (const r of [rx, ry]) expect(values(r)).toEqual([...values(r)].sort());
    const left = zk().writer.children('/q');
    await zk().advance(1);
    expect((await left).children).toEqual([]);
    expect(zk().server.ephemerals(x.sessionId!)).toEqual([]);
  });

  it('pull: nothing is deleted before the consumer asks', async () => {
    await fill('a', 'b', 'c');
    const consumer = zk().client();
    const items = zk().record(queue(consumer, '/q', { mode: 'at-most-once', decode: text }));
    await zk().advance(50);
    expect(values(items).map(show)).toEqual(['a']);
    const left = zk().writer.children('/q');
    await zk().advance(1);
    // The server lists children in no particular order (as a real one does): compare as a set.
    expect((await left).children.map((n) => n.slice(-13)).sort()).toEqual(['qn-0000000001', 'qn-0000000002']);
  });
});

describe('enqueue / queue input', () => {
  it('rejects bad input, naming the argument', async () => {
    const c = zk().client();
    expect(argumentOf(() => queue(c, 'q', { mode: 'at-most-once' }))).toBe('path');
    expect(argumentOf(() => queue(c, '/q', undefined as never))).toBe('options');
    expect(argumentOf(() => queue(c, '/q', { mode: 'exactly-once' as never }))).toBe('options.mode');
    expect(argumentOf(() => queue(c, '/q', { mode: 'at-most-once', concurrency: 0 }))).toBe(
      'options.concurrency',
    );
    expect(argumentOf(() => queue(c, '/q', { mode: 'at-most-once', decode: 1 as never }))).toBe(
      'options.decode',
    );
    // enqueue() returns a promise: bad input rejects, like its other failures.
    await expect(enqueue(c, 'q', 'x')).rejects.toMatchObject({ argument: 'path' });
    const big = enqueue(c, '/q', new Uint8Array(1_048_576));
    await expect(big).rejects.toBeInstanceOf(DataTooLargeError);
  });
});

function show(item: QueueItem<string>): string {
  return item.type === 'item' ? item.value : '!';
}
