/**
 * uniqueName(): the naming service of ZooKeeper's recipes, on sequential nodes.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath, splitPath } from '../session/create.js';
import { validateAclOption, validateClient, validateOptions, validatePath } from '../session/validate.js';
import type { Acl } from '../types.js';
import { deleteGuaranteed, sortSequenceNodes } from './sequence-nodes.js';

export interface UniqueNameOptions {
  /**
   * The ACL of `path` when it has to be created, and of the short-lived node that makes the name.
   * Default: the open ACL. Callers need READ, CREATE and DELETE on `path`.
   */
  readonly acl?: readonly Acl[];
}

/**
 * A name unique under `path`, `<prefix>NNNNNNNNNN`, from a sequential node's counter: names handed out
 * under the same `path` never repeat and are ordered by when they were handed out (in any process).
 * The node that made it is deleted again at once, so nothing piles up; the parent's counter goes on.
 * Resolves to `{ name, sequence }`.
 *
 * @example
 * const { name } = await uniqueName(client, '/app/names', 'job-'); // 'job-0000000041'
 */
export async function uniqueName(
  client: ZkClient,
  path: string,
  prefix = 'name-',
  options: UniqueNameOptions = {},
): Promise<{ name: string; sequence: number }> {
  validateClient(client);
  validatePath(path);
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.includes('/')) {
    throw new InvalidArgumentError('prefix', 'must be a non-empty string without a slash', prefix);
  }
  // The prefix becomes part of a path: its characters follow the path rules, named as the prefix's.
  validatePath(joinPath(path, prefix), 'prefix', true);
  const acl = validateAclOption(validateOptions(options).acl);
  // Protected (the default for sequential modes): a create whose reply is lost is found, not repeated.
  const created = await client.create(joinPath(path, prefix), '', {
    mode: 'persistent-sequential',
    createParents: true,
    acl,
  });
  void deleteGuaranteed(client, created, undefined);
  const [node] = sortSequenceNodes(path, [splitPath(created).name], prefix);
  return { name: `${prefix}${created.slice(-10)}`, sequence: node!.sequence };
}
