/**
 * updateConfig(): compare-and-set writes of a configuration node.
 */
import { BadVersionError, InvalidArgumentError, NodeExistsError, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { validateAclOption, validateClient, validatePath } from '../session/validate.js';
import type { Acl } from '../types.js';

export interface UpdateConfigOptions<T> {
  /** Reads the current data (UTF-8 text). A value it throws on is an error of the update. */
  readonly decode: (text: string) => T;
  /** Writes a value. */
  readonly encode: (value: T) => Uint8Array | string;
  /** Attempts before giving up to concurrent writers (BadVersionError). Default 10. */
  readonly attempts?: number;
  /**
   * The ACL the node is created with when it is missing (and its parents, when they have to be
   * created). Default: the open ACL. config$ readers need READ, writers WRITE.
   */
  readonly acl?: readonly Acl[];
}

/**
 * Reads the node at `path`, computes `update(current)` (`undefined` when the node is missing) and
 * writes it only if nobody wrote in between (versioned set, or create for a missing node); on a
 * conflict it reads and computes again. Resolves to the value written and the node's new version.
 *
 * @example
 * await updateConfig(client, '/app/config', (c) => ({ ...c, limit: 10 }), { decode: JSON.parse, encode: JSON.stringify });
 */
export async function updateConfig<T>(
  client: ZkClient,
  path: string,
  update: (current: T | undefined) => T,
  options: UpdateConfigOptions<T>,
): Promise<{ value: T; version: number }> {
  validateClient(client);
  validatePath(path);
  if (typeof update !== 'function') throw new InvalidArgumentError('update', 'must be a function', update);
  // Checked before the first read: a codec that is no function would fail only after it.
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object with decode and encode', options);
  }
  for (const name of ['decode', 'encode'] as const) {
    if (typeof options[name] !== 'function') {
      throw new InvalidArgumentError(`options.${name}`, 'must be a function', options[name]);
    }
  }
  const attempts = options.attempts ?? 10;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new InvalidArgumentError('options.attempts', 'must be an integer >= 1', attempts);
  }
  const acl = validateAclOption(options.acl);
  for (let attempt = 1; ; attempt++) {
    const current = await client.get(path).catch((error: unknown) => {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    });
    const value = update(current === undefined ? undefined : options.decode(current.data.toString('utf8')));
    const bytes = options.encode(value);
    try {
      if (current === undefined) {
        await client.create(path, bytes, { createParents: true, acl });
        return { value, version: 0 };
      }
      const stat = await client.set(path, bytes, current.stat.version);
      return { value, version: stat.version };
    } catch (error) {
      const conflict =
        error instanceof BadVersionError || error instanceof NodeExistsError || error instanceof NoNodeError;
      if (!conflict || attempt >= attempts) throw error;
    }
  }
}
