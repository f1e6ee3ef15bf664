/**
 * trySet(): compare-and-set of a shared counter.
 */
import { BadVersionError, InvalidArgumentError, NodeExistsError, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { validateAclOption, validateClient, validateOptions, validatePath } from '../session/validate.js';
import type { Acl } from '../types.js';
import { encodeCount, validateCount } from './counter-bytes.js';

/** Options of trySet() and increment(). */
export interface CounterOptions {
  /**
   * The ACL the counter node is created with (and its parents, when they have to be created). Default:
   * the open ACL. Used only when the counter does not exist yet; readers need READ, writers WRITE.
   */
  readonly acl?: readonly Acl[];
}

/**
 * Sets the counter at `path` to `value` if its version is still `expected.version` (from count$ or an
 * earlier trySet), or creates it if `expected` is `null` (the node must not exist yet). Resolves true
 * when written, false when someone wrote first (then read again and retry). Curator's
 * `SharedCount.trySetCount`. A counter created here gets `options.acl` (default: open).
 *
 * @example
 * const ok = await trySet(client, '/app/visits', current.value + 1, current);
 */
export async function trySet(
  client: ZkClient,
  path: string,
  value: number,
  expected: { readonly version: number } | null,
  options: CounterOptions = {},
): Promise<boolean> {
  validateClient(client);
  validatePath(path);
  const bytes = encodeCount(validateCount(value, 'value'));
  const version = expected === null ? undefined : validateExpected(expected);
  const acl = validateAclOption(validateOptions(options).acl);
  try {
    if (version === undefined) await client.create(path, bytes, { createParents: true, acl });
    else await client.set(path, bytes, version);
    return true;
  } catch (error) {
    if (error instanceof BadVersionError || error instanceof NodeExistsError || error instanceof NoNodeError)
      return false;
    throw error;
  }
}

/**
 * The version to compare with. Never -1 ("any version"): that would make the compare-and-set a blind
 * write, and a missing `version` (a wrong object) must not turn into one either.
 */
function validateExpected(expected: unknown): number {
  if (typeof expected !== 'object' || expected === null) {
    throw new InvalidArgumentError(
      'expected',
      'must be null (create) or { version } from count$ or trySet',
      expected,
    );
  }
  const { version } = expected as { version?: unknown };
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > 0x7fff_ffff) {
    throw new InvalidArgumentError(
      'expected.version',
      'must be a node version: an integer from 0 to 2^31-1',
      version,
    );
  }
  return version;
}
