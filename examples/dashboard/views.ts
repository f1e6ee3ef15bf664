/**
 * What the page shows of each recipe, each a few operators over rxzk's streams: an election
 * (leader$ and its candidates' nodes), a group (members$), a lock's holder and waiters, a queue's depth.
 * Every view is built from hot streams that rxzk shares per client and path, so any number of browsers
 * cost one server watch per path.
 */
import { combineLatest, distinctUntilChanged, map, scan, type Observable } from 'rxjs';
import {
  children$,
  leader$,
  LOCK,
  members$,
  tree$,
  type TreeSnapshot,
  type ZkClient,
} from '../../src/index.js';

/** Leadership changes kept per election for the timeline. */
const HISTORY = 40;
/** Characters of a node's data shown. */
const PREVIEW = 120;

export interface ElectionView {
  /** The current leader (the lowest `latch-` node), or null. */
  readonly leader: LeaderEntry | null;
  /** Every candidate in the order they would lead. */
  readonly candidates: readonly Contender[];
  /** Leadership changes seen since the view started, oldest first (`id: null`: nobody led). */
  readonly history: readonly (LeaderEntry | { readonly at: number; readonly id: null })[];
}

/** Who led from `at` on (as leader$ reported it), with the fencing token of that leadership. */
export interface LeaderEntry {
  readonly at: number;
  readonly id: string;
  readonly token: number;
  readonly sessionId: string;
}

/** A candidate or lock contender: its id (the node's data), node name, sequence number and czxid. */
export interface Contender {
  readonly id: string;
  readonly node: string;
  readonly sequence: number;
  readonly token: number;
}

export interface LockView {
  /** The lowest contender, and since when this view has seen it hold the lock. */
  readonly holder: (Contender & { readonly since: number }) | null;
  readonly waiters: readonly Contender[];
  /** Holders seen since the view started. */
  readonly acquisitions: number;
}

export interface QueueView {
  /** Items in the queue, those being worked on included. */
  readonly depth: number;
  /** Items claimed by an at-least-once consumer and not yet acknowledged. */
  readonly claimed: number;
}

/** The election at `path`: leader$ for who leads (and when that changed), its children for the rest. */
export function electionView$(client: ZkClient, path: string): Observable<ElectionView> {
  const history$ = leader$(client, path).pipe(
    scan(
      (history: ElectionView['history'], leader) =>
        [
          ...history,
          leader === null
            ? { at: Date.now(), id: null }
            : { at: Date.now(), id: leader.id, token: leader.token, sessionId: leader.sessionId },
        ].slice(-HISTORY),
      [],
    ),
  );
  return combineLatest([history$, tree$(client, path, { depth: 1 })]).pipe(
    map(([history, tree]) => {
      const last = history.at(-1);
      return {
        leader: last?.id ? (last as LeaderEntry) : null,
        // Curator's LeaderLatch layout: `_c_<uuid>-latch-NNNNNNNNNN`, the participant id as data.
        candidates: contenders(tree, 'latch-'),
        history,
      };
    }),
  );
}

/** A group's members (members$) and their data. */
export function groupView$(client: ZkClient, path: string): Observable<{ id: string; data: string }[]> {
  return members$(client, path).pipe(
    map((members) =>
      [...members]
        .map(([id, data]) => ({ id, data: preview(data) }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ),
  );
}

/** A lock's holder (the lowest `lock-` node) and its waiters in order; the node's data names the owner. */
export function lockView$(client: ZkClient, path: string): Observable<LockView> {
  return tree$(client, path, { depth: 1 }).pipe(
    map((tree) => contenders(tree, LOCK)),
    scan(
      (view: LockView, [holder, ...waiters]) => {
        const changed = holder !== undefined && holder.node !== view.holder?.node;
        return {
          holder: holder
            ? { ...holder, since: changed ? Date.now() : (view.holder?.since ?? Date.now()) }
            : null,
          waiters,
          acquisitions: view.acquisitions + (changed ? 1 : 0),
        };
      },
      { holder: null, waiters: [], acquisitions: 0 },
    ),
  );
}

/** A queue's depth (its `qn-` items) and how many of them at-least-once consumers hold (`claims/`). */
export function queueView$(client: ZkClient, path: string): Observable<QueueView> {
  return combineLatest([children$(client, path), children$(client, `${path}/claims`)]).pipe(
    map(([items, claims]) => ({
      depth: items?.children.filter((name) => /qn-\d{10}$/.test(name)).length ?? 0,
      claimed: claims?.children.length ?? 0,
    })),
    distinctUntilChanged((a, b) => a.depth === b.depth && a.claimed === b.claimed),
  );
}

/** Data as text, shortened; binary data as its size. */
export function preview(data: Buffer): string {
  const text = data.toString('utf8');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text)) return `<${data.length} bytes>`;
  return text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text;
}

/** The sequential children `<anything>marker<10 digits>` of the tree's root, in sequence order. */
function contenders(tree: TreeSnapshot, marker: string): Contender[] {
  const pattern = new RegExp(`${marker}(\\d{10})$`);
  const found: Contender[] = [];
  for (const [path, node] of tree.nodes) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const sequence = pattern.exec(name)?.[1];
    if (path === tree.root || sequence === undefined) continue;
    // A candidate's data is its id, then optionally a NUL and extra data (leadership()'s encoding).
    const id = preview(node.data.subarray(0, node.data.indexOf(0) === -1 ? undefined : node.data.indexOf(0)));
    found.push({ id, node: name, sequence: Number(sequence), token: node.stat.czxid });
  }
  return found.sort((a, b) => a.sequence - b.sequence);
}
