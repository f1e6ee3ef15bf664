/**
 * Typed errors. Every error rxzk raises is a `ZkError` with a numeric `code`: ZooKeeper's own result
 * codes for what the server or the client library reports, built from one table (`errorFromCode`), so the
 * C client's strings ("-101 no node") never reach users.
 */

/** ZooKeeper result codes (ZooDefs / zookeeper.h), by name. */
export const Code = {
  SystemError: -1,
  RuntimeInconsistency: -2,
  DataInconsistency: -3,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  InvalidState: -9,
  NewConfigNoQuorum: -13,
  ReconfigInProgress: -14,
  ApiError: -100,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidCallback: -113,
  InvalidACL: -114,
  AuthFailed: -115,
  Closing: -116,
  Nothing: -117,
  SessionMoved: -118,
  NotReadOnly: -119,
  EphemeralOnLocalSession: -120,
  NoWatcher: -121,
  ReconfigDisabled: -123,
  SessionClosedRequireSaslAuth: -124,
  QuotaExceeded: -125,
  Throttled: -127,
} as const;
export type CodeName = keyof typeof Code;

export interface ZkErrorOptions {
  path?: string | undefined;
  cause?: unknown;
}

/** Base class: `code` is a ZooKeeper result code, `path` the znode the operation was about. */
export class ZkError extends Error {
  override name = 'ZkError';
  readonly code: number;
  readonly path: string | undefined;

  constructor(code: number, message: string, options: ZkErrorOptions = {}) {
    super(options.path === undefined ? message : `${message}: ${options.path}`, { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }
}

// One small class per code users branch on. `name` is set explicitly: minifiers rename classes.
function errorClass<N extends string>(name: N, code: number, message: string) {
  const cls = class extends ZkError {
    override name: string = name;
    constructor(options: ZkErrorOptions = {}) {
      super(code, message, options);
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

export const SystemError = errorClass('SystemError', Code.SystemError, 'system error');
export type SystemError = InstanceType<typeof SystemError>;
export const ConnectionLossError = errorClass('ConnectionLossError', Code.ConnectionLoss, 'connection loss');
export type ConnectionLossError = InstanceType<typeof ConnectionLossError>;
export const OperationTimeoutError = errorClass(
  'OperationTimeoutError',
  Code.OperationTimeout,
  'operation timeout',
);
export type OperationTimeoutError = InstanceType<typeof OperationTimeoutError>;
export const MarshallingError = errorClass('MarshallingError', Code.MarshallingError, 'marshalling error');
export type MarshallingError = InstanceType<typeof MarshallingError>;
export const UnimplementedError = errorClass('UnimplementedError', Code.Unimplemented, 'unimplemented');
export type UnimplementedError = InstanceType<typeof UnimplementedError>;
export const BadArgumentsError = errorClass('BadArgumentsError', Code.BadArguments, 'bad arguments');
export type BadArgumentsError = InstanceType<typeof BadArgumentsError>;
export const InvalidStateError = errorClass('InvalidStateError', Code.InvalidState, 'invalid handle state');
export type InvalidStateError = InstanceType<typeof InvalidStateError>;
export const NoNodeError = errorClass('NoNodeError', Code.NoNode, 'no node');
export type NoNodeError = InstanceType<typeof NoNodeError>;
export const NoAuthError = errorClass('NoAuthError', Code.NoAuth, 'not authenticated');
export type NoAuthError = InstanceType<typeof NoAuthError>;
export const BadVersionError = errorClass('BadVersionError', Code.BadVersion, 'bad version');
export type BadVersionError = InstanceType<typeof BadVersionError>;
export const NoChildrenForEphemeralsError = errorClass(
  'NoChildrenForEphemeralsError',
  Code.NoChildrenForEphemerals,
  'ephemeral nodes may not have children',
);
export type NoChildrenForEphemeralsError = InstanceType<typeof NoChildrenForEphemeralsError>;
export const NodeExistsError = errorClass('NodeExistsError', Code.NodeExists, 'node exists');
export type NodeExistsError = InstanceType<typeof NodeExistsError>;
export const NotEmptyError = errorClass('NotEmptyError', Code.NotEmpty, 'node has children');
export type NotEmptyError = InstanceType<typeof NotEmptyError>;
export const SessionExpiredError = errorClass('SessionExpiredError', Code.SessionExpired, 'session expired');
export type SessionExpiredError = InstanceType<typeof SessionExpiredError>;
export const InvalidACLError = errorClass('InvalidACLError', Code.InvalidACL, 'invalid ACL');
export type InvalidACLError = InstanceType<typeof InvalidACLError>;
export const AuthFailedError = errorClass('AuthFailedError', Code.AuthFailed, 'authentication failed');
export type AuthFailedError = InstanceType<typeof AuthFailedError>;
export const SessionMovedError = errorClass('SessionMovedError', Code.SessionMoved, 'session moved');
export type SessionMovedError = InstanceType<typeof SessionMovedError>;
export const NotReadOnlyError = errorClass('NotReadOnlyError', Code.NotReadOnly, 'server is read-only');
export type NotReadOnlyError = InstanceType<typeof NotReadOnlyError>;
export const QuotaExceededError = errorClass('QuotaExceededError', Code.QuotaExceeded, 'quota exceeded');
export type QuotaExceededError = InstanceType<typeof QuotaExceededError>;
export const ThrottledError = errorClass('ThrottledError', Code.Throttled, 'request throttled');
export type ThrottledError = InstanceType<typeof ThrottledError>;
/** The client was closed (by `close()`): the operation was not, or may not have been, applied. */
export const ClosedError = errorClass('ClosedError', Code.Closing, 'client is closed');
export type ClosedError = InstanceType<typeof ClosedError>;

type ErrorClass = new (options?: ZkErrorOptions) => ZkError;

/** The code->class table. Codes without a class of their own become a plain `ZkError`. */
const byCode = new Map<number, ErrorClass>([
  [Code.SystemError, SystemError],
  [Code.ConnectionLoss, ConnectionLossError],
  [Code.MarshallingError, MarshallingError],
  [Code.Unimplemented, UnimplementedError],
  [Code.OperationTimeout, OperationTimeoutError],
  [Code.BadArguments, BadArgumentsError],
  [Code.InvalidState, InvalidStateError],
  [Code.NoNode, NoNodeError],
  [Code.NoAuth, NoAuthError],
  [Code.BadVersion, BadVersionError],
  [Code.NoChildrenForEphemerals, NoChildrenForEphemeralsError],
  [Code.NodeExists, NodeExistsError],
  [Code.NotEmpty, NotEmptyError],
  [Code.SessionExpired, SessionExpiredError],
  [Code.InvalidACL, InvalidACLError],
  [Code.AuthFailed, AuthFailedError],
  [Code.Closing, ClosedError],
  [Code.SessionMoved, SessionMovedError],
  [Code.NotReadOnly, NotReadOnlyError],
  [Code.QuotaExceeded, QuotaExceededError],
  [Code.Throttled, ThrottledError],
]);

const nameByCode = new Map<number, string>(Object.entries(Code).map(([name, code]) => [code, name]));

/** Builds the typed error for a ZooKeeper result code. */
export function errorFromCode(code: number, options: ZkErrorOptions = {}): ZkError {
  const cls = byCode.get(code);
  if (cls) return new cls(options);
  return new ZkError(code, `ZooKeeper error ${nameByCode.get(code) ?? 'Unknown'} (${code})`, options);
}

/**
 * Bad input from the caller, found before anything was sent. `argument` names the parameter and `rule`
 * says which rule it broke, so the message can be acted on without reading rxzk's source.
 */
export class InvalidArgumentError extends ZkError {
  override name = 'InvalidArgumentError';
  readonly argument: string;
  readonly rule: string;
  constructor(argument: string, rule: string, value?: unknown) {
    super(Code.BadArguments, `invalid argument '${argument}': ${rule}${describe(value)}`);
    this.argument = argument;
    this.rule = rule;
  }
}

/** A path that breaks ZooKeeper's path rules. */
export class InvalidPathError extends InvalidArgumentError {
  override name = 'InvalidPathError';
}

/** Data larger than the server accepts in one request (jute.maxbuffer). */
export class DataTooLargeError extends InvalidArgumentError {
  override name = 'DataTooLargeError';
}

function describe(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? JSON.stringify(value) : printable(value);
  return ` (got ${text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
}

/** String(value), or its type tag for what cannot be converted (a null-prototype object, a throwing toString). */
function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Errors worth retrying on the same or a new session: the request may not have reached the server. */
export function isRetryable(error: unknown): boolean {
  return (
    error instanceof ZkError &&
    (error.code === Code.ConnectionLoss ||
      error.code === Code.OperationTimeout ||
      error.code === Code.SessionExpired ||
      error.code === Code.SessionMoved)
  );
}
