/**
 * Setup shared by the marble suites: a fresh VirtualZooKeeper per test, asserting with vitest, and a
 * guard that fails the test if anything calls the real clock or real timers while it runs (library
 * time must go through the scheduler, DESIGN.md "Time").
 */
import { map, type OperatorFunction } from 'rxjs';
import { afterEach, beforeEach, expect } from 'vitest';
import { InvalidArgumentError, type NodeData, type SessionState } from '../../src/index.js';
import { VirtualZooKeeper } from '../../src/testing/index.js';

export const stateLetter: Record<SessionState['type'], string> = {
  connecting: 'i',
  connected: 'c',
  suspended: 's',
  reconnected: 'r',
  lost: 'l',
  closed: 'x',
};

export const letters = map((s: SessionState) => stateLetter[s.type]);

export const text: OperatorFunction<NodeData | null, string | null> = map((n) =>
  n === null ? null : n.data.toString(),
);

const REAL = {
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  dateNow: Date.now,
};

/** Registers the per-test fixture; `zk()` returns the current test's server. */
export function virtualSuite(): () => VirtualZooKeeper {
  let zk: VirtualZooKeeper | undefined;
  let realTimeCalls: string[] = [];
  beforeEach(() => {
    realTimeCalls = [];
    const trap = (name: string) => (): never => {
      const message = `${name} called under virtual time`;
      realTimeCalls.push(`${message}\n${new Error(message).stack ?? ''}`);
      throw new Error(message);
    };
    globalThis.setTimeout = trap('setTimeout') as unknown as typeof setTimeout;
    globalThis.setInterval = trap('setInterval') as unknown as typeof setInterval;
    Date.now = trap('Date.now') as unknown as typeof Date.now;
    zk = new VirtualZooKeeper({ assert: (actual, expected) => expect(actual).toEqual(expected) });
  });
  afterEach(async () => {
    await zk?.close();
    zk = undefined;
    globalThis.setTimeout = REAL.setTimeout;
    globalThis.setInterval = REAL.setInterval;
    Date.now = REAL.dateNow;
    expect(realTimeCalls, 'real timers used under virtual time').toEqual([]);
  });
  return () => {
    if (!zk) throw new Error('use the server inside a test');
    return zk;
  };
}

/** The argument an InvalidArgumentError thrown by `fn` names (fails if `fn` throws anything else or nothing). */
export function argumentOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as InvalidArgumentError).argument;
  }
  throw new Error('did not throw');
}
