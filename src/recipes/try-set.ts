/**
 * trySet(): compare-and-set of a shared counter.
 */
import { BadVersionError, NodeExistsError, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { validatePath, validateVersion } from '../session/validate.js';
import { encodeCount, validateCount } from './counter-bytes.js';

/**
 * Sets the counter at `path` to `value` if its version is still `expected.version` (from count$ or an
 * earlier trySet), or creates it if `expected` is `null` (the node must not exist yet). Resolves true
 * when written, false when someone wrote first (then read again and retry). Curator's
 * `SharedCount.trySetCount`.
 *
 * @example
 * const ok = await trySet(client, '/app/visits', current.value + 1, current);
 */
export async function trySet(
  client: ZkClient,
  path: string,
  value: number,
  expected: { readonly version: number } | null,
): Promise<boolean> {
  validatePath(path);
  const bytes = encodeCount(validateCount(value, 'value'));
  try {
    if (expected === null) await client.create(path, bytes, { createParents: true });
    else await client.set(path, bytes, validateVersion(expected.version, 'expected.version'));
    return true;
  } catch (error) {
    if (error instanceof BadVersionError || error instanceof NodeExistsError || error instanceof NoNodeError)
      return false;
    throw error;
  }
}
