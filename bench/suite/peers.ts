/**
 * The peer worker processes: how each is started (one OS process per peer), the Curator compile step,
 * and the orchestrator's end of the line protocol (one request at a time, each bounded).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CURATOR_JARS, curatorMissing } from '../../test/support/curator.js';
import type { PeerName, Reply, Request } from './protocol.js';

const run = promisify(execFile);
const here = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));

/** The Python that has Debian's python3-kazoo (not whatever `python3` is first on PATH). */
export const PYTHON = process.env['RXZK_BENCH_PYTHON'] ?? '/usr/bin/python3';

/** JVM flags of the Curator worker: a fixed heap ceiling and G1, so runs on other machines compare. */
export const CURATOR_JVM_FLAGS = (process.env['RXZK_BENCH_CURATOR_JVM'] ?? '-Xms256m -Xmx1g -XX:+UseG1GC')
  .split(/\s+/)
  .filter(Boolean);

export interface Compiled {
  readonly classPath: string;
  remove(): void;
}

/** Compiles the Curator peer with javac; rejects with the reason (what is missing, or javac's errors). */
export async function compileCuratorPeer(): Promise<Compiled> {
  const missing = curatorMissing();
  if (missing) throw new Error(missing);
  const classes = mkdtempSync(join(tmpdir(), 'rxzk-bench-curator-'));
  try {
    await run(
      'javac',
      ['-nowarn', '-d', classes, '-cp', CURATOR_JARS.join(':'), here('../peers/curator/CuratorPeer.java')],
      { timeout: 180_000 },
    );
  } catch (error) {
    rmSync(classes, { recursive: true, force: true });
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`javac failed: ${stderr.trim().slice(0, 2000)}`);
  }
  return {
    classPath: `${CURATOR_JARS.join(':')}:${classes}`,
    remove: () => rmSync(classes, { recursive: true, force: true }),
  };
}

/** The command line of a peer's worker. */
export function peerCommand(peer: PeerName, curator: Compiled | undefined): string[] {
  // RXZK_BENCH_NODE_FLAGS adds flags to both Node workers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = (process.env['RXZK_BENCH_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean);
  const node = (file: string): string[] => [
    process.execPath,
    '--expose-gc',
    ...extra,
    '--import',
    'tsx',
    here(file),
  ];
  switch (peer) {
    case 'rxzk':
      return node('./rxzk-worker.ts');
    case 'floor':
      return node('./floor-worker.ts');
    case 'kazoo':
      return [PYTHON, '-u', here('../peers/kazoo/kazoo_peer.py')];
    case 'curator':
      if (!curator) throw new Error('the Curator peer is not compiled');
      return ['java', ...CURATOR_JVM_FLAGS, '-cp', curator.classPath, 'CuratorPeer'];
  }
}

type Body = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** One worker process and the orchestrator's end of its protocol. */
export class PeerProcess {
  /** Why the process cannot be used any more (it exited, timed out, or never started). */
  dead: string | undefined;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private readonly stderrTail: string[] = [];
  private nextId = 1;
  private readonly exited: Promise<void>;

  constructor(
    readonly peer: PeerName,
    readonly command: readonly string[],
    echoStderr: boolean,
  ) {
    const [program, ...args] = command;
    this.child = spawn(program!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: process.env });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.fail(`the ${peer} worker exited (${signal ?? `code ${code}`})`);
        resolve();
      });
      this.child.once('error', (error) => {
        this.fail(`could not start the ${peer} worker (${command.join(' ')}): ${error.message}`);
        resolve();
      });
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      let reply: Reply;
      try {
        reply = JSON.parse(line) as Reply;
      } catch {
        return;
      }
      this.pending.get(reply.id)?.(reply);
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
      if (echoStderr) process.stderr.write(`[${peer}] ${line}\n`);
    });
    this.child.stdin!.on('error', () => undefined);
  }

  /** The last lines the worker wrote on stderr (for failure reports). */
  stderr(): string {
    return this.stderrTail.join('\n');
  }

  /** Sends one request and waits (at most `timeoutMs`) for its reply; a timeout kills the worker. */
  request(body: Body, timeoutMs: number): Promise<Reply> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.fail(`the ${this.peer} worker did not answer '${body.cmd}' within ${timeoutMs / 1000} s`);
        this.child.kill('SIGKILL');
        reject(new Error(this.dead));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(reply);
      });
      this.rejecters.set(id, (reason) => {
        clearTimeout(timer);
        reject(new Error(reason));
      });
      this.child.stdin!.write(`${JSON.stringify({ id, ...body })}\n`);
    }).finally(() => this.rejecters.delete(id));
  }

  private readonly rejecters = new Map<number, (reason: string) => void>();

  private fail(reason: string): void {
    if (this.dead) return;
    const tail = this.stderr().trim();
    this.dead = tail ? `${reason}; its last stderr lines:\n${tail}` : reason;
    for (const reject of this.rejecters.values()) reject(this.dead);
    this.rejecters.clear();
    this.pending.clear();
  }

  /** Asks the worker to exit (its sessions closed), bounded; kills it if it does not. */
  async close(): Promise<void> {
    if (!this.dead) await this.request({ cmd: 'exit' }, 30_000).catch(() => undefined);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    if (this.child.exitCode === null && this.child.signalCode === null) await this.exited;
    clearTimeout(killer);
  }
}
