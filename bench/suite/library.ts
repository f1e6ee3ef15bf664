/**
 * The rxzk build the suite measures: the built library (`dist/`, as users run it: `npm run bench` builds
 * first), or the module `RXZK_BENCH_LIB` names (the smoke test points it at `src/index.ts`, run by tsx).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type * as Rxzk from '../../src/index.js';

const override = process.env['RXZK_BENCH_LIB'];
const url = override ? pathToFileURL(override) : new URL('../../dist/src/index.js', import.meta.url);

/** Where the measured library was loaded from. */
export const libraryLocation = override ?? 'dist/src/index.js';

export const rxzk = (await import(url.href)) as typeof Rxzk;

const repo = new URL('../../', import.meta.url);

/** rxzk's version and commit, Node's, and the ZooKeeper binding's. */
export function libraryInfo(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(new URL('package.json', repo), 'utf8')) as { version: string };
  const require = createRequire(import.meta.url);
  const binding = JSON.parse(readFileSync(require.resolve('zookeeper/package.json'), 'utf8')) as {
    version: string;
  };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: repo,
      encoding: 'utf8',
    });
    if (dirty.trim() !== '') commit += '+changes';
  } catch {
    // Not a git checkout.
  }
  return {
    rxzk: pkg.version,
    commit,
    build: libraryLocation,
    node: process.version,
    'zookeeper (npm binding, ZooKeeper C client)': binding.version,
  };
}
