/**
 * The Node side of the line protocol (protocol.ts): the rxzk and floor workers each give `serve` their
 * scenarios; this reads requests from stdin one at a time and writes one reply line per request.
 * Also the few measuring helpers the two Node workers share.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Params, PeerInfo, Reply, Request, ScenarioName, StepResult } from './protocol.js';

export interface SetupContext {
  readonly connect: string;
  readonly root: string;
  readonly sessionTimeout: number;
  readonly params: Params;
}

/** A scenario after setup: its sessions are open; each step is timed work; teardown closes them. */
export interface Running {
  step(name: string, round: number): Promise<StepResult>;
  teardown(): Promise<void>;
}

export type ScenarioFactory = (context: SetupContext) => Promise<Running>;

/** This process's monotonic clock, in ms. */
export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a rejection naming `what` after `ms`: no step of a worker may hang. */
export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A number parameter of the scenario (a missing or non-numeric one is the orchestrator's bug). */
export function num(params: Params, name: string): number {
  const value = params[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`parameter ${name} missing`);
  return value;
}

export function str(params: Params, name: string): string {
  const value = params[name];
  if (typeof value !== 'string') throw new Error(`parameter ${name} missing`);
  return value;
}

/**
 * Handoff gaps of a lock: the turns sorted by acquisition, the time from one holder's release call
 * to the next holder's acquisition, and how many acquisitions came before the previous release
 * (mutual exclusion broken: must be 0).
 */
export function handoffGaps(turns: readonly (readonly [acquired: number, released: number])[]): {
  samples: number[];
  overlaps: number;
} {
  const sorted = [...turns].sort((a, b) => a[0] - b[0]);
  const samples: number[] = [];
  let overlaps = 0;
  for (let i = 1; i < sorted.length; i++) {
    const gap = sorted[i]![0] - sorted[i - 1]![1];
    if (gap < 0) overlaps++;
    samples.push(Math.max(0, gap));
  }
  return { samples, overlaps };
}

/** Resident set size of this process (VmRSS), bytes: the same measure for every peer. */
export function rssBytes(): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb === undefined ? process.memoryUsage().rss : Number(kb) * 1024;
}

/** Heap in use after full collections (the worker runs with --expose-gc), and RSS. */
export async function memory(): Promise<{ heap: number; rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the worker must run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(10);
  }
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed + usage.external, rss: rssBytes() };
}

/** Serves the protocol on stdin/stdout until `exit` or the end of stdin. */
export function serve(info: () => PeerInfo, scenarios: Partial<Record<ScenarioName, ScenarioFactory>>): void {
  const running = new Map<ScenarioName, Running>();
  const reply = (message: Reply): void => {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  };
  const handle = async (request: Request): Promise<Reply> => {
    switch (request.cmd) {
      case 'hello':
        return { id: request.id, ok: true, info: info() };
      case 'setup': {
        const factory = scenarios[request.scenario];
        if (!factory) throw new Error(`no scenario ${request.scenario}`);
        if (running.has(request.scenario)) throw new Error(`${request.scenario} is set up already`);
        running.set(request.scenario, await factory(request));
        return { id: request.id, ok: true };
      }
      case 'step': {
        const scenario = running.get(request.scenario);
        if (!scenario) throw new Error(`${request.scenario} is not set up`);
        return { id: request.id, ok: true, result: await scenario.step(request.step, request.round) };
      }
      case 'teardown': {
        const scenario = running.get(request.scenario);
        running.delete(request.scenario);
        await scenario?.teardown();
        return { id: request.id, ok: true };
      }
      case 'exit':
        for (const [name, scenario] of running) {
          running.delete(name);
          await scenario.teardown().catch(() => undefined);
        }
        return { id: request.id, ok: true };
    }
  };
  // One request at a time, in order: the orchestrator never sends the next before the reply.
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    queue = queue.then(async () => {
      let request: Request;
      try {
        request = JSON.parse(line) as Request;
      } catch {
        reply({ id: -1, ok: false, error: `not JSON: ${line.slice(0, 200)}` });
        return;
      }
      try {
        reply(await handle(request));
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        reply({ id: request.id, ok: false, error: message });
      }
      if (request.cmd === 'exit') process.exit(0);
    });
  });
  lines.on('close', () => {
    void queue.then(() => process.exit(0));
  });
}
