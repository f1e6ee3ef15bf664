/** Every program in examples/ runs here, so the README never shows code that does not run. */
import { describe, expect, it } from 'vitest';
import { main as sessionExample } from '../examples/session.js';
import { zkSuite } from './support/fixture.js';

const zk = zkSuite();

describe('examples', () => {
  it('examples/session.ts', async () => {
    const result = await sessionExample(zk.connectString, `${zk.root}/example`);
    expect(result.member).toBe(`${zk.root}/example/members/worker-1`);
    expect(result.job).toMatch(/\/_c_[0-9a-f-]{36}-job-\d{10}$/);
    expect(result.children).toEqual(['worker-1']);
    expect(result.states).toEqual(['connecting', 'connected', 'closed']);
  });
});
