/**
 * The README's quick start on the embedded engine: `npm run demo` exits 0 and shows live streams, and
 * the examples run with no server at all (no ZK_CONNECT).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main as sessionExample } from '../examples/session.js';
import { connect, InvalidArgumentError } from '../src/index.js';

function run(command: string, args: string[], timeoutMs: number) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const env = { ...process.env };
    delete env['ZK_CONNECT'];
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('on the embedded engine', () => {
  it('npm run demo exits 0 and shows the streams healing across expiry', async () => {
    const { code, output } = await run('npm', ['run', '--silent', 'demo'], 60_000);
    expect(code, output).toBe(0);
    const lines = output.split('\n').map((l) => l.replace(/^\s*\d+ ms {2}/, ''));
    expect(lines).toContain('connecting to memory://');
    expect(lines).toContain('tree initialized');
    expect(lines).toContain('config: workers=4');
    expect(lines.some((l) => l.startsWith('config rejected:'))).toBe(true);
    // After expiry: lost, a new session, and the change made meanwhile.
    const expired = lines.indexOf('-- expiring the watcher session: its streams heal on the next one');
    const after = lines.slice(expired);
    expect(after.findIndex((l) => l.startsWith('session lost'))).toBeGreaterThan(0);
    expect(after.findIndex((l) => l.startsWith('session connected'))).toBeGreaterThan(1);
    expect(after).toContain('config: workers=8');
    expect(after).toContain('tree removed /rxzk-demo/members/b');
    // Leadership moves: A leads, resigns, B takes over with a larger token.
    const token = (who: string) =>
      Number(/token (\d+)/.exec(lines.find((l) => l.startsWith(`${who}: leads`)) ?? '')?.[1]);
    expect(lines).toContain('service B: follows service-a');
    expect(token('service A')).toBeGreaterThan(0);
    expect(token('service B')).toBeGreaterThan(token('service A'));
    expect(lines.indexOf('-- service A resigns: service B takes over')).toBeLessThan(
      lines.findIndex((l) => l.startsWith('service B: leads')),
    );
  });

  it('examples/session.ts runs with no server', async () => {
    const result = await sessionExample(undefined, '/rxzk-example-embedded');
    expect(result.member).toBe('/rxzk-example-embedded/members/worker-1');
    expect(result.job).toMatch(/\/_c_[0-9a-f-]{36}-job-\d{10}$/);
    expect(result.states).toEqual(['connecting', 'connected', 'closed']);
  });
});

describe('connect(memory://)', () => {
  it('is used only when asked for by name: a missing or malformed connect string is a typed error', () => {
    for (const bad of [undefined, '', '  ', 'memory://bad name', 'memory://x/bad//chroot']) {
      expect(() => connect(bad as string), String(bad)).toThrow(InvalidArgumentError);
      expect(() => connect(bad as string)).toThrow(/connectString/);
    }
  });

  it('a process whose clients are closed ends by itself: the engine keeps no timer running', async () => {
    const { code, output } = await run(
      process.execPath,
      ['--import', 'tsx', 'test/support/embedded-exit.ts'],
      30_000,
    );
    expect(code, output).toBe(0);
    expect(output).toContain('closed');
  });

  it('shares one server per name within the process; other names are other servers; chroots apply', async () => {
    const a1 = connect('memory://shared-test');
    const a2 = connect('memory://shared-test');
    const other = connect('memory://other-test');
    const rooted = connect('memory://shared-test/app');
    try {
      await a1.create('/app/x', 'from a1', { createParents: true });
      expect((await a2.get('/app/x')).data.toString()).toBe('from a1');
      expect((await rooted.get('/x')).data.toString()).toBe('from a1');
      expect(await other.exists('/app/x')).toBeNull();
      expect(a1.sessionId).not.toBe(a2.sessionId);
    } finally {
      await a1.delete('/app/x');
      await a1.delete('/app');
      await Promise.all([a1.close(), a2.close(), other.close(), rooted.close()]);
    }
  });
});

describe('README', () => {
  it('shows the marble example test exactly as it runs in CI', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../marbles/readme-example.test.ts', import.meta.url), 'utf8')
      .replace("from '../src/index.js'", "from 'rxzk'")
      .replace("from '../src/testing/index.js'", "from 'rxzk/testing'");
    expect(readme).toContain('```ts\n' + example + '```');
  });
});
