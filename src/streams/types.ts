import type { Stat } from '../types.js';

/** A znode's data as data$ emits it. */
export interface NodeData {
  readonly path: string;
  readonly data: Buffer;
  readonly stat: Stat;
  /**
   * The zxid of the state shown (the node's mzxid): a later value of the same stream always has a
   * larger one, and values of different streams can be ordered by it.
   */
  readonly zxid: number;
}

/** A znode's children as children$ emits them. */
export interface NodeChildren {
  readonly path: string;
  /** Child names, sorted. */
  readonly children: readonly string[];
  /** The parent's Stat. */
  readonly stat: Stat;
  /** The zxid of the state shown (the parent's pzxid). */
  readonly zxid: number;
}
