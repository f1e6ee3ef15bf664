/**
 * Session states (DESIGN.md, "Session states"). A discriminated union on `type`.
 *
 * Allowed transitions (anything else is a bug):
 *   connecting  -> connected | closed
 *   connected   -> suspended | lost | closed
 *   suspended   -> reconnected | lost | closed
 *   reconnected -> suspended | lost | closed
 *   lost        -> connected | closed          (connected carries the new sessionId)
 *   closed      (terminal; the stream completes)
 */
import { InvalidArgumentError } from '../errors.js';

export type SessionState =
  | { readonly type: 'connecting' }
  /** A new session: the first one, or the one opened after `lost`. */
  | { readonly type: 'connected'; readonly sessionId: string; readonly sessionTimeout: number }
  /** The socket is gone; the session may still live on the server. Stop acting on what you own. */
  | { readonly type: 'suspended'; readonly sessionId: string }
  /** The same session is back; its watches were restored by the client. */
  | { readonly type: 'reconnected'; readonly sessionId: string; readonly sessionTimeout: number }
  /** The session is gone: expired on the server, or judged lost by the client's own timer. */
  | { readonly type: 'lost'; readonly sessionId: string; readonly reason: LostReason }
  | { readonly type: 'closed' };

export type SessionStateType = SessionState['type'];
/**
 * `expired`: the server said so. `timeout`: suspended for a whole session timeout. `moved`: the session
 * kept moving away, its connections closed soon after each reconnect (another handle on the same
 * session takes it over every time: SESSION_MOVED), so it was given up, not ended (see churn.ts).
 */
export type LostReason = 'expired' | 'timeout' | 'authFailed' | 'moved';

const allowed: Record<SessionStateType, readonly SessionStateType[]> = {
  connecting: ['connected', 'closed'],
  connected: ['suspended', 'lost', 'closed'],
  suspended: ['reconnected', 'lost', 'closed'],
  reconnected: ['suspended', 'lost', 'closed'],
  lost: ['connected', 'closed'],
  closed: [],
};

/**
 * Whether `to` may follow `from`. The client never emits a transition for which this is false. A name
 * that is no state type is an InvalidArgumentError (naming `from` or `to`), not a false.
 */
export function isValidTransition(from: SessionStateType, to: SessionStateType): boolean {
  validateStateType(from, 'from');
  validateStateType(to, 'to');
  return allowed[from].includes(to);
}

function validateStateType(type: unknown, argument: string): void {
  // Own keys only: 'toString' is no state.
  if (typeof type !== 'string' || !Object.hasOwn(allowed, type)) {
    throw new InvalidArgumentError(argument, `must be one of ${Object.keys(allowed).join(', ')}`, type);
  }
}

/** True while operations can be sent: a session is established and its socket is up. */
export function isLive(
  state: SessionState,
): state is Extract<SessionState, { type: 'connected' | 'reconnected' }> {
  return state.type === 'connected' || state.type === 'reconnected';
}
