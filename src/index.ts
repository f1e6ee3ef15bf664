/**
 * rxzk: Apache ZooKeeper as RxJS streams.
 */

// Session
export { connect } from './session/connect.js';
export { ZkClient } from './session/client.js';
export type { ConnectOptions, CreateOptions, WatchOptions } from './session/client.js';
export type { SessionState, SessionStateType, LostReason } from './session/state.js';
export { isValidTransition } from './session/state.js';
export type { Logger } from './session/logger.js';
export type { RetryPolicy } from './session/retry.js';
export { defaultRetryPolicy } from './session/retry.js';
export { validatePath, pathProblem, MAX_DATA_BYTES, MAX_PATH_BYTES, MAX_TTL_MS } from './session/validate.js';
export { PROTECTED_PREFIX } from './session/create.js';

// Znode streams
export { data$ } from './streams/data.js';
export { children$ } from './streams/children.js';
export { stat$ } from './streams/stat.js';
export { tree$, treeEvents$ } from './streams/tree.js';
export type { TreeNode, TreeSnapshot, TreeEvent, TreeOptions } from './streams/tree.js';
export { decode, DecodeError } from './streams/decode.js';
export type { Decoded } from './streams/decode.js';
export type { NodeData, NodeChildren } from './streams/types.js';

// Data shapes
export { CreateMode, Perms, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, CREATOR_ALL_ACL } from './types.js';
export type { Stat, Acl, WatchEvent } from './types.js';

// Transport
export { nativeTransport } from './transport/native.js';
export type { NativeLogLevel, NativeTransportOptions } from './transport/native.js';
export type {
  Transport,
  TransportHandle,
  TransportEvent,
  TransportOptions,
  AuthInfo,
  Watcher,
  CreateRequest,
  Created,
} from './transport/port.js';

// Errors
export {
  Code,
  ZkError,
  errorFromCode,
  isRetryable,
  InvalidArgumentError,
  InvalidPathError,
  DataTooLargeError,
  ClosedError,
  SystemError,
  ConnectionLossError,
  OperationTimeoutError,
  MarshallingError,
  UnimplementedError,
  BadArgumentsError,
  InvalidStateError,
  NoNodeError,
  NoAuthError,
  BadVersionError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NotEmptyError,
  SessionExpiredError,
  InvalidACLError,
  AuthFailedError,
  SessionMovedError,
  NotReadOnlyError,
  QuotaExceededError,
  ThrottledError,
} from './errors.js';
export type { CodeName, ZkErrorOptions } from './errors.js';

// Recipes
export { leadership, LeadershipPolicy } from './recipes/leadership.js';
export type { Leadership, LeadershipOptions } from './recipes/leadership.js';
export { leader$ } from './recipes/leader.js';
export type { Leader } from './recipes/leader.js';
export { join } from './recipes/join.js';
export type { Membership, JoinOptions } from './recipes/join.js';
export { members$ } from './recipes/members.js';
export { config$ } from './recipes/config.js';
export type { ConfigOptions } from './recipes/config.js';
export { configUpdates$ } from './recipes/config-updates.js';
export type { ConfigUpdate } from './recipes/config-updates.js';
export { updateConfig } from './recipes/update-config.js';
export type { UpdateConfigOptions } from './recipes/update-config.js';
export { count$ } from './recipes/count.js';
export type { VersionedCount } from './recipes/count.js';
export { trySet } from './recipes/try-set.js';
export type { CounterOptions } from './recipes/try-set.js';
export { increment } from './recipes/increment.js';
export { uniqueName } from './recipes/unique-name.js';
export type { UniqueNameOptions } from './recipes/unique-name.js';

// Coordination: locks, queues, barriers
export { lock, LOCK } from './recipes/lock.js';
export type { LockOptions } from './recipes/lock.js';
export { OwnershipPolicy } from './recipes/ownership.js';
export type { Ownership, OwnershipOptions, LossReason } from './recipes/ownership.js';
export { acquire } from './recipes/acquire.js';
export type { AcquireOptions } from './recipes/acquire.js';
export type { LockHandle } from './recipes/hold.js';
export { withLock } from './recipes/with-lock.js';
export { readLock, writeLock } from './recipes/read-write-lock.js';
export { enqueue } from './recipes/enqueue.js';
export type { EnqueueOptions } from './recipes/enqueue.js';
export { queue } from './recipes/queue.js';
export type { QueueItem, QueueOptions, DeliveryMode } from './recipes/queue.js';
export { barrier } from './recipes/barrier.js';
export { doubleBarrier } from './recipes/double-barrier.js';
export type { DoubleBarrierState, DoubleBarrierOptions } from './recipes/double-barrier.js';
export { LockLostError, LockTimeoutError, QueuePayloadError } from './recipes/coordination-errors.js';
export { semaphore } from './recipes/semaphore.js';
export type { SemaphoreOptions } from './recipes/semaphore.js';
export { SemaphoreLimitError } from './recipes/coordination-errors.js';
