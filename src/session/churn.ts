/**
 * Internal: notices a session that cannot keep a connection, the mark of two handles on one session.
 *
 * ZooKeeper gives a session to the connection that last (re)joined it: on one server the older
 * connection is closed at once; on an ensemble the next write through the older one meets SESSION_MOVED
 * and that server closes it. Two handles with the same session id and password (a saved session reused,
 * a cloned process) therefore take the session from each other at every reconnect, "indefinitely"
 * (ZooKeeper Programmer's Guide, SessionMovedException). Neither sees an error, only its connection
 * closing soon after it was made; Curator (which retries SESSIONMOVED like a connection loss) and kazoo
 * (which raises it) both loop with the other handle for as long as it lives.
 *
 * A connection dropped before it has lived one session timeout is short-lived. When no connection has
 * lived longer for STREAK session timeouts, the session is given up. A network that kills every
 * connection soon after it is made looks the same from here, and its session is worth as little; a storm
 * shorter than that (row 2 of the fault matrix: 30 s with a 4 s timeout) keeps its session. How fast
 * the loop spins is no guide: the C client reconnects after a sixtieth of the timeout (or, when the
 * binding misses the new socket's readiness, at its next timer, a third of it), under a flapping network
 * as with a rival handle; a rival may reconnect later still (the Java client sleeps up to a second).
 */

/** Session timeouts without a connection that lived one. */
export const STREAK = 10;

export class SessionChurn {
  /** When the current connection was made. */
  private since: number | undefined;
  /** When the first short-lived connection of the current run was made. */
  private runStart: number | undefined;

  /** A new session: nothing of the old one counts. */
  reset(): void {
    this.since = undefined;
    this.runStart = undefined;
  }

  /** The session's connection is up (first connect or reconnect) at `at`. */
  connected(at: number): void {
    this.since = at;
  }

  /** The connection dropped at `at`; true when the session should be given up. */
  dropped(at: number, sessionTimeout: number): boolean {
    const since = this.since;
    this.since = undefined;
    if (since === undefined) return false;
    if (at - since >= sessionTimeout) {
      // It held: a run of short-lived connections, if any, is over.
      this.runStart = undefined;
      return false;
    }
    this.runStart ??= since;
    return at - this.runStart >= STREAK * sessionTimeout;
  }
}
