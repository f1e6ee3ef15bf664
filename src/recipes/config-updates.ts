/**
 * configUpdates$(): a configuration node as typed notifications: each valid value, each invalid update,
 * and the node's absence.
 */
import { map, type Observable } from 'rxjs';
import { InvalidArgumentError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { validateClient, validatePath } from '../session/validate.js';
import { data$ } from '../streams/data.js';
import { decode, type DecodeError } from '../streams/decode.js';
import type { NodeData } from '../streams/types.js';

export type ConfigUpdate<T> =
  /** A valid value, decoded; `zxid` orders it (the node's mzxid). */
  | { readonly type: 'value'; readonly value: T; readonly zxid: number }
  /** An update the decoder refused. The stream goes on; the last valid value still holds. */
  | { readonly type: 'invalid'; readonly error: DecodeError; readonly node: NodeData }
  /** The node does not exist. */
  | { readonly type: 'missing' };

/**
 * The node at `path` decoded with `decoder` (given the data as UTF-8 text), as typed notifications:
 * `value`, `invalid` (the decoder threw: reported, never fatal), `missing`.
 *
 * Hot and shared per client and path (it is data$ underneath: one server watch for all subscribers);
 * first emission: the current state. May skip intermediate versions; always delivers the latest.
 * Completes when the client closes; errors only for what retrying cannot fix (e.g. NoAuthError).
 *
 * @example
 * configUpdates$(client, '/app/config', JSON.parse).subscribe((u) => {
 *   if (u.type === 'invalid') console.warn(u.error.message);
 * });
 */
export function configUpdates$<T>(
  client: ZkClient,
  path: string,
  decoder: (text: string, node: NodeData) => T,
): Observable<ConfigUpdate<T>> {
  validateClient(client);
  validatePath(path);
  if (typeof decoder !== 'function') throw new InvalidArgumentError('decoder', 'must be a function', decoder);
  return data$(client, path).pipe(
    decode(decoder),
    map((d): ConfigUpdate<T> => {
      if (d === null) return { type: 'missing' };
      return d.ok
        ? { type: 'value', value: d.value, zxid: d.node.zxid }
        : { type: 'invalid', error: d.error, node: d.node };
    }),
  );
}
