/**
 * `create` with its recoveries. A create whose reply is lost (connection loss after the request left)
 * may or may not have been applied; retrying blindly makes a duplicate sequential node or an orphan
 * ephemeral. So:
 * - sequential modes carry a protection GUID in the name (Curator's `_c_<uuid>-` scheme): after a lost
 *   reply the parent's children are searched for the GUID before trying again;
 * - a plain ephemeral is ours when it exists with our session as its owner;
 * - other modes are not retried once sent: the caller gets ConnectionLossError (the outcome is unknown).
 * A recoverable create whose node is not found was never made, or made and deleted since (a consumer
 * took a queue item): `onLostReply` says whether to send it again (a possible duplicate) or to reject
 * with ConnectionLossError (a possible loss, the caller's to settle).
 */
import { randomUUID } from 'node:crypto';
import { Code, ConnectionLossError, isRetryable, ZkError } from '../errors.js';
import type { TransportHandle } from '../transport/port.js';
import { isEphemeral, isSequential, type Acl, type CreateMode, type Stat } from '../types.js';

export const PROTECTED_PREFIX = '_c_';

export interface CreateContext {
  /** Waits for the live session and returns its handle. */
  live(): Promise<TransportHandle>;
  /** Waits before retry number `attempt`; throws when retries are exhausted. */
  backoff(attempt: number, error: unknown): Promise<void>;
}

export interface CreatePlan {
  readonly path: string;
  readonly data: Uint8Array;
  readonly mode: CreateMode;
  readonly ttl: number | undefined;
  readonly protect: boolean;
  /** A recoverable create whose node is not found after a lost reply: send it again, or reject. */
  readonly onLostReply: 'retry' | 'reject';
  /** The node's ACL (absent: open). Missing parents get it too, as Curator's creatingParentsIfNeeded does. */
  readonly acl: readonly Acl[] | undefined;
  /** Missing parents are created first, with this mode (or not at all). */
  readonly parents: 'persistent' | 'container' | undefined;
}

export function splitPath(path: string): { parent: string; name: string } {
  const slash = path.lastIndexOf('/');
  return { parent: slash === 0 ? '/' : path.slice(0, slash), name: path.slice(slash + 1) };
}

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The name a protected create sends: `<parent>/_c_<uuid>-<name>`. */
export function protectedPath(path: string, guid: string): string {
  const { parent, name } = splitPath(path);
  return joinPath(parent, `${PROTECTED_PREFIX}${guid}-${name}`);
}

/**
 * A create's outcome: its path and Stat. The Stat is missing only when a create whose reply was lost is
 * found by its GUID but deleted again before it could be read (a persistent node someone took at once).
 */
export interface Recovered {
  readonly path: string;
  readonly stat: Stat | undefined;
}

export async function createNode(ctx: CreateContext, plan: CreatePlan): Promise<Recovered> {
  const guid = plan.protect ? randomUUID() : undefined;
  const path = guid ? protectedPath(plan.path, guid) : plan.path;
  const request = { path, data: plan.data, mode: plan.mode, ttl: plan.ttl, acl: plan.acl };
  const recoverable = guid !== undefined || (isEphemeral(plan.mode) && !isSequential(plan.mode));
  // Set once an attempt's outcome is unknown: from then on, look for its node before sending again.
  let mayExist = false;
  let lost: unknown;
  let unknown = false;
  for (let attempt = 0; ; attempt++) {
    const handle = await ctx.live();
    try {
      if (mayExist) {
        const found = await recover(handle, plan, path, guid);
        if (found !== undefined) return found;
        mayExist = false;
        // Never made, or made and deleted since: only the caller can choose between a possible
        // duplicate and a possible loss (thrown below, not to the retries of this catch).
        unknown = plan.onLostReply === 'reject';
      }
      if (!unknown) return await handle.create(request);
    } catch (error) {
      if (error instanceof ZkError && error.code === Code.NoNode && plan.parents && !mayExist) {
        await createParents(ctx, splitPath(plan.path).parent, plan.parents, plan.acl);
        continue;
      }
      if (!isRetryable(error) || !recoverable) throw error;
      mayExist = true;
      lost = error;
      await ctx.backoff(attempt, error);
    }
    if (unknown) throw new ConnectionLossError({ path, cause: lost });
  }
}

async function recover(
  handle: TransportHandle,
  plan: CreatePlan,
  path: string,
  guid: string | undefined,
): Promise<Recovered | undefined> {
  const sessionId = handle.sessionId;
  if (guid) {
    const { parent } = splitPath(path);
    const children = await handle.children(parent).then((r) => r.children, notFoundAsEmpty);
    const mark = `${PROTECTED_PREFIX}${guid}-`;
    const name = children.find((child) => child.startsWith(mark));
    if (name === undefined) return undefined;
    const found = joinPath(parent, name);
    const stat = await handle.exists(found);
    // A persistent node that is gone again (a queue consumer took it) was still created: never send
    // it again (that would be a duplicate); the Stat is unknown then.
    if (!isEphemeral(plan.mode)) return { path: found, stat: stat ?? undefined };
    if (stat && stat.ephemeralOwner === sessionId) return { path: found, stat };
    // An ephemeral of an earlier session that is about to be reaped: not ours to hand out. Remove it
    // so the retry does not leave a second node behind for the same request.
    if (stat) await handle.delete(found, -1).catch(() => undefined);
    return undefined;
  }
  if (isEphemeral(plan.mode) && !isSequential(plan.mode)) {
    const stat = await handle.exists(path);
    return stat && stat.ephemeralOwner === sessionId ? { path, stat } : undefined;
  }
  return undefined;
}

function notFoundAsEmpty(error: unknown): string[] {
  if (error instanceof ZkError && error.code === Code.NoNode) return [];
  throw error;
}

/** Creates each missing ancestor of `parent`, top-down; one that exists already is fine. */
async function createParents(
  ctx: CreateContext,
  parent: string,
  mode: 'persistent' | 'container',
  acl: readonly Acl[] | undefined,
): Promise<void> {
  if (parent === '/') return;
  const segments = parent.slice(1).split('/');
  let current = '';
  for (const segment of segments) {
    current = `${current}/${segment}`;
    for (let attempt = 0; ; attempt++) {
      const handle = await ctx.live();
      try {
        await handle.create({ path: current, data: new Uint8Array(0), mode, ttl: undefined, acl });
        break;
      } catch (error) {
        if (error instanceof ZkError && error.code === Code.NodeExists) break;
        // Creating a parent is idempotent: NodeExists on the retry answers whether the lost one landed.
        if (!isRetryable(error)) throw error;
        await ctx.backoff(attempt, error);
      }
    }
  }
}
