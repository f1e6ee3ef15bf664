/**
 * The validator agrees with ZooKeeper: generated paths are sent through the raw adapter (no rxzk
 * validation in the way) and the server's (or C client's) verdict is compared with `pathProblem`.
 */
import { describe, expect, it } from 'vitest';
import { Code, nativeTransport, pathProblem, ZkError, type TransportHandle } from '../src/index.js';
import { zkSuite } from './support/fixture.js';

const zk = zkSuite();

// NUL is left out: the binding converts paths to C strings, so "/a\0b" would silently become "/a"
// (one more reason rxzk validates first; the NUL rule is in the unit table).
const alphabet = [
  'a',
  'b',
  '.',
  '.',
  '/',
  '/',
  '-',
  ' ',
  '\u0001',
  '\u001f',
  '\u0020',
  '\u007f',
  '\u0080',
  '\u009f',
  '\u00a0',
  'é',
  '€',
  '\u2028',
  '\ud83d\ude00',
  '\ue000',
  '\uf8ff',
  '\uf900',
  '\ufff0',
  '\ufffd',
  '\uffff',
];

/** Deterministic generator, so a failure names a path that can be replayed. */
function* paths(count: number, seed = 42): Generator<string> {
  let state = seed;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  for (let i = 0; i < count; i++) {
    let s = '';
    const length = 1 + next(6);
    for (let j = 0; j < length; j++) s += alphabet[next(alphabet.length)];
    yield s;
  }
}

async function open(connectString: string): Promise<TransportHandle> {
  return new Promise((resolve) => {
    const handle = nativeTransport().open({ connectString, sessionTimeout: 10_000, auth: [] }, (event) => {
      if (event.type === 'connected') resolve(handle);
    });
  });
}

describe('path validation vs the server', () => {
  it('agrees on 400 generated paths, plain and sequential', async () => {
    const raw = await open(zk.connectString);
    const disagreements: string[] = [];
    let conclusive = 0;
    let rejected = 0;
    try {
      let n = 0;
      for (const suffix of paths(400)) {
        const sequential = n++ % 4 === 0;
        const path = `${zk.root}/${suffix}`;
        // The server answers NoNode for a missing parent before it looks at the name: create the
        // parent chain first wherever it is itself a valid path, so the verdict is about the name.
        const parent = path.slice(0, path.lastIndexOf('/'));
        if (pathProblem(parent) === undefined) {
          const parts = parent
            .slice(zk.root.length + 1)
            .split('/')
            .filter(Boolean);
          for (let i = 1; i <= parts.length; i++) {
            const ancestor = `${zk.root}/${parts.slice(0, i).join('/')}`;
            await raw
              .create({ path: ancestor, data: new Uint8Array(0), mode: 'persistent' })
              .catch(() => undefined);
          }
        }
        const ours = pathProblem(path, sequential) === undefined;
        const theirs = await raw
          .create({
            path,
            data: new Uint8Array(0),
            mode: sequential ? 'persistent-sequential' : 'persistent',
          })
          .then(
            async (created) => {
              await raw.delete(created.path, -1);
              return true;
            },
            (error: unknown) => {
              // NoNode: an invalid parent we could not create; the server never judged the name.
              if (error instanceof ZkError && error.code === Code.NoNode) return undefined;
              if (error instanceof ZkError && error.code === Code.BadArguments) return false;
              // Created earlier as some other path's parent: the server accepted it then.
              if (error instanceof ZkError && error.code === Code.NodeExists) return true;
              throw error;
            },
          );
        if (theirs === undefined) {
          // Only an invalid parent can leave the name unjudged, and the validator rejects those too.
          expect(ours, JSON.stringify(path)).toBe(false);
          continue;
        }
        conclusive++;
        if (!theirs) rejected++;
        if (ours !== theirs)
          disagreements.push(`${JSON.stringify(path)} seq=${sequential}: ours=${ours} server=${theirs}`);
      }
    } finally {
      raw.close();
    }
    expect(disagreements).toEqual([]);
    expect(conclusive).toBeGreaterThan(250);
    // Both verdicts are well represented, so agreement is not agreement on one answer.
    expect(rejected).toBeGreaterThan(50);
    expect(conclusive - rejected).toBeGreaterThan(50);
    console.log(`validator vs server: ${conclusive} conclusive paths, ${rejected} rejected`);
  });
});
