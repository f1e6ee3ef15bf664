/**
 * count$(): a shared counter's value, live (Curator's SharedCount layout).
 */
import { filter, map, type Observable } from 'rxjs';
import type { ZkClient } from '../session/client.js';
import { validateClient, validatePath } from '../session/validate.js';
import { data$ } from '../streams/data.js';
import { decodeCount } from './counter-bytes.js';

/** A counter's value and the node version to compare-and-set against (trySet). */
export interface VersionedCount {
  readonly value: number;
  readonly version: number;
}

/**
 * The counter at `path` (a node holding a 4-byte big-endian int, as Curator's SharedCount writes it):
 * `{ value, version }`, or `null` while the node does not exist.
 *
 * Hot and shared underneath (data$: one server watch per client and path); first emission: the current
 * value. Data that is not 4 bytes is not a counter value and is skipped. May skip intermediate values
 * (watches are one-shot); always delivers the latest. Completes when the client closes.
 *
 * @example
 * count$(client, '/app/visits').subscribe((c) => console.log(c?.value ?? 0));
 */
export function count$(client: ZkClient, path: string): Observable<VersionedCount | null> {
  validateClient(client);
  validatePath(path);
  return data$(client, path).pipe(
    map((node) => {
      if (node === null) return null;
      const value = decodeCount(node.data);
      return value === undefined ? undefined : { value, version: node.stat.version };
    }),
    filter((c): c is VersionedCount | null => c !== undefined),
  );
}
