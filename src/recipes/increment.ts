/**
 * increment(): add to a shared counter without losing concurrent updates.
 */
import { firstValueFrom, timer } from 'rxjs';
import { InvalidArgumentError, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { validateAclOption, validateClient, validateOptions, validatePath } from '../session/validate.js';
import { decodeCount, validateCount } from './counter-bytes.js';
import { trySet, type CounterOptions } from './try-set.js';

/**
 * Adds `delta` (default 1) to the counter at `path` (created at 0 when missing) by compare-and-set:
 * read value and version, write the sum if the version is unchanged, else read again (after a short
 * random pause on the client's scheduler, so contenders spread out). No update is lost, however many
 * processes increment at once. Wraps around as Java's int does. Resolves to the new value. A counter
 * created here gets `options.acl` (default: open).
 *
 * @example
 * const visits = await increment(client, '/app/visits');
 */
export async function increment(
  client: ZkClient,
  path: string,
  delta = 1,
  options: CounterOptions = {},
): Promise<number> {
  validateClient(client);
  validatePath(path);
  validateCount(delta, 'delta');
  const acl = validateAclOption(validateOptions(options).acl);
  for (let attempt = 0; ; attempt++) {
    const current = await client.get(path).catch((error: unknown) => {
      if (error instanceof NoNodeError) return null;
      throw error;
    });
    const value = current === null ? 0 : decodeCount(current.data);
    if (value === undefined) throw new InvalidArgumentError('path', 'does not hold a 4-byte counter', path);
    const next = (value + delta) | 0;
    if (await trySet(client, path, next, current && { version: current.stat.version }, { acl })) return next;
    const pause = Math.floor(Math.random() * Math.min(2 ** attempt, 50));
    if (pause > 0) await firstValueFrom(timer(pause, client.scheduler));
  }
}
