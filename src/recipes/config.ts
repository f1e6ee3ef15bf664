/**
 * config$(): the last valid value of a configuration node.
 */
import { filter, map, tap, type Observable } from 'rxjs';
import { InvalidArgumentError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import type { DecodeError } from '../streams/decode.js';
import type { NodeData } from '../streams/types.js';
import { configUpdates$ } from './config-updates.js';

export interface ConfigOptions<T> {
  /**
   * What a missing node yields, when the key is present (even as `undefined`). Without the key: nothing
   * (the last valid value, if any, still holds).
   */
  readonly default?: T;
  /** Told about each update the decoder refused (configUpdates$ has them as values). */
  readonly onInvalid?: (error: DecodeError) => void;
}

/**
 * The configuration at `path`: each valid value decoded with `decoder`, live. An update the decoder
 * throws on is skipped (reported to `options.onInvalid`; see configUpdates$ for a stream of them) and
 * never kills the stream: the last valid value holds. A missing node yields `options.default` when the
 * option is given, or nothing.
 *
 * Hot and shared underneath (data$: one server watch per client and path); first emission: the
 * current value (or the default). No value twice in a row for the same node version. May skip
 * intermediate versions; always delivers the latest valid one. Completes when the client closes.
 *
 * @example
 * config$(client, '/app/config', (t) => Config.parse(JSON.parse(t)), { default: defaults })
 *   .subscribe((c) => apply(c));
 */
export function config$<T>(
  client: ZkClient,
  path: string,
  decoder: (text: string, node: NodeData) => T,
  options: ConfigOptions<T> = {},
): Observable<T> {
  const updates = configUpdates$(client, path, decoder);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object', options);
  }
  if (options.onInvalid !== undefined && typeof options.onInvalid !== 'function') {
    throw new InvalidArgumentError('options.onInvalid', 'must be a function', options.onInvalid);
  }
  const hasDefault = 'default' in options;
  return updates.pipe(
    tap((u) => {
      if (u.type === 'invalid') options.onInvalid?.(u.error);
    }),
    filter((u) => u.type === 'value' || (u.type === 'missing' && hasDefault)),
    map((u) => (u.type === 'value' ? u.value : (options.default as T))),
  );
}
