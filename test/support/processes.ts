/**
 * Worker processes for the process tests: each prints one JSON line per event on stdout (lines that do
 * not start with `{` are not events), the parent collects them. A pool per test file ends whatever a
 * test left running; `allExited` waits for a set of them, bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A .ts file (a path or a file URL, run by this Node with tsx) or a command line: `[program, ...args]`. */
export type Command = string | URL | readonly string[];

export interface WorkerProcess<E> {
  readonly child: ChildProcess;
  /** The events it reported so far, in order. */
  readonly events: E[];
  /**
   * When this process read each event (`performance.now()`, same index as `events`): one clock for
   * every worker. The workers' own `t` come from clocks that disagree by a few ms between processes.
   */
  readonly receivedAt: number[];
  /** Its exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

/** Starts `command` with `env` over this process's environment, stdin closed, stderr inherited. */
export function spawnWorker<E>(command: Command, env: Record<string, string> = {}): WorkerProcess<E> {
  const [program, ...args] =
    typeof command === 'string' || command instanceof URL
      ? [process.execPath, '--import', 'tsx', command instanceof URL ? fileURLToPath(command) : command]
      : command;
  const child = spawn(program!, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events: E[] = [];
  const receivedAt: number[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    events.push(JSON.parse(line) as E);
    receivedAt.push(performance.now());
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, events, receivedAt, exited };
}

export interface WorkerPool {
  /** `spawnWorker`, remembered until the next `stopAll`. */
  spawn<E>(command: Command, env?: Record<string, string>): WorkerProcess<E>;
  /** Ends the processes spawned since the last call that still run, one after another (for afterEach). */
  stopAll(): Promise<void>;
}

/**
 * A test file's processes. `stopAll` sends SIGKILL, or with `termGraceMs` SIGTERM first (a worker may
 * close its session) and SIGKILL after that many ms.
 */
export function workerPool(options: { termGraceMs?: number } = {}): WorkerPool {
  const running: WorkerProcess<unknown>[] = [];
  return {
    spawn<E>(command: Command, env?: Record<string, string>) {
      const worker = spawnWorker<E>(command, env);
      running.push(worker);
      return worker;
    },
    async stopAll() {
      for (const { child, exited } of running.splice(0)) {
        const alive = child.exitCode === null && child.signalCode === null;
        if (options.termGraceMs === undefined) {
          if (alive) child.kill('SIGKILL');
          await exited;
        } else {
          if (alive) child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), options.termGraceMs);
          await exited;
          clearTimeout(timer);
        }
      }
    },
  };
}

/** Bounded wait for every process to exit; returns their exit codes. */
export async function allExited(
  workers: readonly { readonly exited: Promise<number | null> }[],
  timeoutMs: number,
): Promise<(number | null)[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`processes still running after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.all(workers.map((w) => w.exited)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
