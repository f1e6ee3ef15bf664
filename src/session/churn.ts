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
 * The session is given up when, for STREAK session timeouts, it has dropped at least once a timeout on
 * average (STREAK drops in the last STREAK timeouts) and no connection has lived HOLD timeouts. A
 * connection that lived longer ends the run: the session holds again. One that lived a timeout or two
 * does not: under load (a busy server, a slow rival) a loop has them now and then, and a run reset by
 * each of them went on (a CI run: the loop outlived 35 s with a 1.5 s timeout). A network that drops a
 * connection every couple of timeouts keeps its session (too few drops); one that kills every
 * connection soon after it is made looks like a rival from here, and its session is worth as little; a
 * storm shorter than STREAK timeouts (row 2 of the fault matrix: 30 s with a 4 s timeout) keeps its
 * session. How fast the loop spins is no guide: the C client reconnects after a sixtieth of the timeout
 * (or, when the binding misses the new socket's readiness, at its next timer, a third of it), under a
 * flapping network as with a rival handle; a rival may reconnect later still (the Java client sleeps up
 * to a second).
 */

/** Session timeouts of churn (and drops within them) before the session is given up. */
export const STREAK = 10;
/** Session timeouts a connection must live to end a run of churn. */
export const HOLD = 3;

export class SessionChurn {
  /** When the current connection was made. */
  private since: number | undefined;
  /** When the first connection of the current run was made. */
  private runStart: number | undefined;
  /** When the run's last STREAK connections dropped, oldest first. */
  private drops: number[] = [];

  /** A new session: nothing of the old one counts. */
  reset(): void {
    this.since = undefined;
    this.runStart = undefined;
    this.drops = [];
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
    if (at - since >= HOLD * sessionTimeout) {
      // It held: a run of churn, if any, is over.
      this.runStart = undefined;
      this.drops = [];
      return false;
    }
    this.runStart ??= since;
    this.drops.push(at);
    if (this.drops.length > STREAK) this.drops.shift();
    const window = STREAK * sessionTimeout;
    return at - this.runStart >= window && this.drops.length === STREAK && at - this.drops[0]! <= window;
  }
}
