/**
 * `npm run dashboard` as a newcomer runs it: on the embedded engine with the simulated services, it
 * prints its URL (on 127.0.0.1), serves the page with nothing from the network, streams everything
 * the page shows (and the picture moves: the churn replaces the scheduler's leader), and stops
 * cleanly on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openSse } from './dashboard/sse-client.js';

interface Started {
  readonly child: ChildProcess;
  output(): string;
  readonly url: Promise<string>;
}

function start(): Started {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  delete env['ZK_CONNECT'];
  delete env['SIMULATE'];
  // Its own process group, so that Ctrl-C can be played as a terminal plays it (SIGINT to the whole
  // group: npm's shell does not pass a signal on to the program it runs).
  const child = spawn('npm', ['run', '--silent', 'dashboard'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${output}`)), 60_000);
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /rxzk dashboard: (http:\/\/\S+)/.exec(output)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  });
  return { child, output: () => output, url };
}

/** Signals the child's whole process group (npm, its shell, tsx, the program). */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, name);
  } catch {
    // Gone already.
  }
}

/** Resolves once every process of the child's group has exited, at most `timeoutMs`. */
async function groupGone(child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(-child.pid!, 0);
    } catch {
      return; // ESRCH: nobody left
    }
    if (Date.now() > deadline) throw new Error(`still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type Election = { leader: { id: string } | null; history: { id: string | null }[] };

describe('npm run dashboard', () => {
  it(
    'serves the page and the live streams of the simulated services, and stops on Ctrl-C',
    { timeout: 120_000 },
    async () => {
      const { child, output, url: found } = start();
      try {
        const url = await found;
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        expect(output()).toContain('(ZooKeeper memory://, root /rxzk-dashboard, simulated services running)');

        const page = await fetch(url);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
        expect(await page.text()).toContain('<title>rxzk dashboard</title>');
        for (const asset of ['app.js', 'style.css']) {
          expect((await fetch(new URL(asset, url))).status).toBe(200);
        }
        expect((await fetch(new URL('nothing-here', url))).status).toBe(404);

        const sse = await openSse(url);
        try {
          const root = '/rxzk-dashboard';
          await sse.until('everything the page shows', (s) => {
            const election = (name: string) =>
              s.get(`election:${root}/elections/${name}`) as Election | undefined;
            const lock = s.get(`lock:${root}/locks/report`) as { acquisitions: number } | undefined;
            return (
              (s.get('session') as { type?: string } | undefined)?.type === 'connected' &&
              s.has('tree') &&
              election('scheduler')?.leader != null &&
              election('billing')?.leader != null &&
              (lock?.acquisitions ?? 0) > 0 &&
              s.has(`queue:${root}/queues/jobs`) &&
              (s.get(`group:${root}/groups/workers`) as unknown[] | undefined)?.length === 5
            );
          });
          // It moves by itself: the churn kills the scheduler's leader (every 12 s, the first after 4 s).
          await sse.until(
            'a new scheduler leader',
            (s) => {
              const history = (s.get(`election:${root}/elections/scheduler`) as Election).history;
              return new Set(history.map((h) => h.id).filter((id) => id !== null)).size > 1;
            },
            40_000,
          );
        } finally {
          sse.close();
        }

        // Ctrl-C: the program stops its services and its server, closes its client and ends by itself
        // (npm then ends by the signal, as it does in a terminal).
        signal(child, 'SIGINT');
        await groupGone(child, 30_000);
        expect(output()).toMatch(/\nstopped\n$/);
      } finally {
        signal(child, 'SIGKILL');
      }
    },
  );

  it('loads nothing from the network: no URL in the page, its script or its style sheet', () => {
    for (const file of ['index.html', 'app.js', 'style.css']) {
      const text = readFileSync(new URL(`../examples/dashboard/public/${file}`, import.meta.url), 'utf8');
      expect(text.match(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/gi), file).toBeNull();
      expect(text, file).not.toMatch(/@import|@font-face/);
    }
  });
});
