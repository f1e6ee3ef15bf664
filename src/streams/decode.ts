import { map, type OperatorFunction } from 'rxjs';
import { InvalidArgumentError } from '../errors.js';
import type { NodeData } from './types.js';

/** A decoded payload, or why it could not be decoded. Either way the stream goes on. */
export type Decoded<T> =
  | { readonly ok: true; readonly value: T; readonly node: NodeData }
  | { readonly ok: false; readonly error: DecodeError; readonly node: NodeData };

/** A payload the decoder refused; `cause` is what the decoder threw. */
export class DecodeError extends Error {
  override name = 'DecodeError';
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot decode the data of ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/**
 * Decodes each value of data$ with `decoder` (given the data as UTF-8 text, and the node). A payload
 * the decoder throws on becomes `{ ok: false, error }` instead of an error notification, so one bad
 * write never kills the stream; `null` (no node) passes through.
 *
 * @example
 * data$(client, '/app/config').pipe(decode((text) => Config.parse(JSON.parse(text))))
 */
export function decode<T>(
  decoder: (text: string, node: NodeData) => T,
): OperatorFunction<NodeData | null, Decoded<T> | null> {
  // Checked here: a decoder that is no function would make every payload `{ ok: false }`, silently.
  if (typeof decoder !== 'function') throw new InvalidArgumentError('decoder', 'must be a function', decoder);
  return map((node) => {
    if (node === null) return null;
    try {
      return { ok: true, value: decoder(node.data.toString('utf8'), node), node };
    } catch (cause) {
      return { ok: false, error: new DecodeError(node.path, cause), node };
    }
  });
}
