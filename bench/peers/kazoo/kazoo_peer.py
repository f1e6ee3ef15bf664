"""The kazoo 2.8 peer of the benchmark suite (bench/suite/run.ts).

Every scenario with the recipe kazoo's documentation points users to, on kazoo's default handler
(threads) and retry settings:
  lock      client.Lock: 8 clients, each thread looping acquire()/release()
  failover  client.Election: the leader function returns (resigns), time to the next one's call
  change    client.DataWatch sees the writer's set()
  tree      kazoo.recipe.cache.TreeCache until its INITIALIZED event
  queue     client.LockingQueue: get() (an ephemeral lock on the entry), then consume()
  fanout    10 DataWatch per path
It speaks the suite's line protocol (bench/suite/protocol.ts) on stdin/stdout; times come from
time.perf_counter() in this process. Run with Debian's python3-kazoo: /usr/bin/python3 -u kazoo_peer.py
"""
import gc
import json
import logging
import platform
import sys
import threading
import time
import traceback
import tracemalloc

import kazoo
from kazoo.client import KazooClient
from kazoo.recipe.cache import TreeCache, TreeEvent
from kazoo.version import __version__ as KAZOO_VERSION

# Bound on any single wait inside a step (a hang guard, far above any expected time).
WAIT_S = 60.0


def now():
    return time.perf_counter() * 1000.0


class Timeout(Exception):
    pass


def wait(event, seconds, what):
    if not event.wait(seconds):
        raise Timeout("timed out after %d s: %s" % (seconds, what))


def client(context):
    c = KazooClient(hosts=context["connect"], timeout=context["sessionTimeout"] / 1000.0)
    c.start(timeout=WAIT_S)
    return c


def clients(context, n):
    return [client(context) for _ in range(n)]


def close_all(cs):
    for c in cs:
        try:
            c.stop()
            c.close()
        except Exception:  # noqa: BLE001 - closing anyway
            traceback.print_exc()


def rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def handoffs(turns, elapsed, max_holders):
    ordered = sorted(turns)
    samples = []
    overlaps = 0
    for i in range(1, len(ordered)):
        gap = ordered[i][0] - ordered[i - 1][1]
        if gap < 0:
            overlaps += 1
        samples.append(max(0.0, gap))
    return {
        "throughput": len(turns) / elapsed * 1000.0,
        "acquisitions": len(turns),
        "maxHolders": max_holders,
        "overlaps": overlaps,
        "samples": samples,
    }


# ---- 1. lock: client.Lock ----


class LockScenario:
    def __init__(self, context):
        params = context["params"]
        self.turns = int(params["turns"])
        self.clients = clients(context, int(params["contenders"]))
        path = context["root"] + "/lock"
        self.locks = [c.Lock(path, "c%d" % i) for i, c in enumerate(self.clients)]

    def step(self, name, round_):
        log = []
        guard = threading.Lock()
        state = {"holders": 0, "max": 0, "failed": None}
        go = threading.Event()

        def contend(lock):
            try:
                go.wait()
                for _ in range(self.turns):
                    if not lock.acquire(timeout=WAIT_S):
                        raise Timeout("acquire timed out")
                    acquired = now()
                    with guard:
                        state["holders"] += 1
                        state["max"] = max(state["max"], state["holders"])
                    with guard:
                        state["holders"] -= 1
                    released = now()
                    with guard:
                        log.append((acquired, released))
                    lock.release()
            except Exception as error:  # noqa: BLE001 - reported to the orchestrator
                state["failed"] = error

        threads = [threading.Thread(target=contend, args=(lock,), daemon=True) for lock in self.locks]
        for t in threads:
            t.start()
        started = now()
        go.set()
        for t in threads:
            t.join(WAIT_S * 5)
        elapsed = now() - started
        if state["failed"] is not None:
            raise RuntimeError("contender failed: %r" % state["failed"])
        return handoffs(log, elapsed, state["max"])

    def teardown(self):
        close_all(self.clients)


# ---- 2. failover: client.Election ----


class Candidate:
    def __init__(self, scenario, client_, path, ident):
        self.scenario = scenario
        self.election = client_.Election(path, ident)
        self.leading = False
        self.resign = threading.Event()
        self.stopped = False
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        # Back in the election as soon as it resigned: run() blocks until elected, calls lead, then
        # releases the election's lock when lead returns.
        while not self.stopped:
            self.resign.clear()
            self.election.run(self.lead)

    def lead(self):
        self.scenario.on_leader(self, now())
        self.resign.wait()


class FailoverScenario:
    def __init__(self, context):
        params = context["params"]
        self.failovers = int(params["failovers"])
        self.clients = clients(context, int(params["candidates"]))
        self.path = context["root"] + "/election"
        self.overlaps = 0
        self.next_at = None
        self.next_event = threading.Event()
        self.candidates = [Candidate(self, c, self.path, "c%d" % i) for i, c in enumerate(self.clients)]
        for c in self.candidates:
            c.thread.start()
        wait(self.next_event, WAIT_S, "a first leader")

    def on_leader(self, who, at):
        if any(c is not who and c.leading for c in self.candidates):
            self.overlaps += 1
        who.leading = True
        self.next_at = at
        self.next_event.set()

    def step(self, name, round_):
        samples = []
        self.overlaps = 0
        observer = self.clients[0]
        for _ in range(self.failovers):
            deadline = time.monotonic() + WAIT_S
            leader = None
            while leader is None and time.monotonic() < deadline:
                leader = next((c for c in self.candidates if c.leading), None)
                if leader is None:
                    time.sleep(0.001)
            if leader is None:
                raise RuntimeError("no leader before a failover")
            self.next_event.clear()
            leader.leading = False
            t0 = now()
            leader.resign.set()
            wait(self.next_event, WAIT_S, "the next leader")
            samples.append(self.next_at - t0)
            # The old leader is back in the election by itself; wait until its node is there.
            while len(observer.get_children(self.path)) < len(self.candidates) and time.monotonic() < deadline:
                time.sleep(0.001)
        return {"samples": samples, "failovers": len(samples), "overlaps": self.overlaps}

    def teardown(self):
        for c in self.candidates:
            c.stopped = True
            c.election.cancel()
            c.resign.set()
        for c in self.candidates:
            c.thread.join(5)
        close_all(self.clients)


# ---- 3. change: DataWatch ----


class ChangeScenario:
    def __init__(self, context):
        self.changes = int(context["params"]["changes"])
        self.writer, self.reader = clients(context, 2)
        self.path = context["root"] + "/node"
        self.writer.create(self.path, b"start", makepath=True)
        self.expected = b"start"
        self.seen = threading.Event()
        self.seen_at = None
        self.active = True

        def watch(data, stat):
            at = now()
            if data == self.expected:
                self.seen_at = at
                self.seen.set()
            return None if self.active else False

        self.reader.DataWatch(self.path, watch)
        wait(self.seen, WAIT_S, "the first value")

    def step(self, name, round_):
        samples = []
        from_call = []
        early = 0
        for i in range(self.changes):
            value = ("r%d-%d" % (round_, i)).encode()
            self.seen.clear()
            self.expected = value
            called = now()
            self.writer.set(self.path, value)
            resolved = now()
            wait(self.seen, WAIT_S, "change %s" % value)
            if self.seen_at < resolved:
                early += 1
            samples.append(max(0.0, self.seen_at - resolved))
            from_call.append(self.seen_at - called)
        return {"samples": samples, "fromCall": from_call, "early": early}

    def teardown(self):
        self.active = False
        close_all([self.writer, self.reader])


# ---- 4. tree: TreeCache ----


class TreeScenario:
    def __init__(self, context):
        self.context = context
        self.fixture = context["params"]["fixture"]

    def step(self, name, round_):
        c = client(self.context)
        try:
            initialized = threading.Event()
            started = now()
            cache = TreeCache(c, self.fixture)

            def listener(event):
                if event.event_type == TreeEvent.INITIALIZED:
                    initialized.set()

            cache.listen(listener)
            cache.start()
            wait(initialized, WAIT_S * 5, "the tree cache to initialize")
            elapsed = now() - started

            def count(path):
                return 1 + sum(count(path + "/" + child) for child in (cache.get_children(path) or ()))

            nodes = count(self.fixture)
            cache.close()
            return {"samples": [elapsed], "nodes": nodes}
        finally:
            close_all([c])

    def teardown(self):
        pass


# ---- 5. queue: LockingQueue ----


class QueueScenario:
    def __init__(self, context):
        params = context["params"]
        self.items = int(params["items"])
        self.root = context["root"]
        self.clients = clients(context, 1 + int(params["consumers"]))

    def step(self, name, round_):
        path = "%s/q%d" % (self.root, round_)
        producer = self.clients[0].LockingQueue(path)
        put_at = [0.0] * self.items
        delivered = set()
        samples = []
        state = {"duplicates": 0, "ended": None, "failed": None, "stop": False}
        guard = threading.Lock()
        done = threading.Event()

        def consume(c):
            q = c.LockingQueue(path)
            try:
                while not state["stop"]:
                    value = q.get(timeout=0.2)
                    if value is None:
                        continue
                    at = now()
                    i = int(value)
                    with guard:
                        if i in delivered:
                            state["duplicates"] += 1
                        else:
                            delivered.add(i)
                            samples.append(at - put_at[i])
                            if len(delivered) == self.items:
                                state["ended"] = at
                                done.set()
                    q.consume()
            except Exception as error:  # noqa: BLE001 - reported to the orchestrator
                state["failed"] = error
                done.set()

        threads = [threading.Thread(target=consume, args=(c,), daemon=True) for c in self.clients[1:]]
        for t in threads:
            t.start()
        time.sleep(0.2)
        started = now()
        for i in range(self.items):
            put_at[i] = now()
            producer.put(str(i).encode())
        wait(done, WAIT_S * 5, "every item delivered")
        if state["failed"] is not None:
            raise RuntimeError("consumer failed: %r" % state["failed"])
        entries = path + "/entries"
        deadline = time.monotonic() + WAIT_S
        leftover = len(self.clients[0].get_children(entries))
        while leftover > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
            leftover = len(self.clients[0].get_children(entries))
        state["stop"] = True
        for t in threads:
            t.join(WAIT_S)
        with guard:
            return {
                "throughput": self.items / (state["ended"] - started) * 1000.0,
                "samples": list(samples),
                "delivered": len(delivered),
                "duplicates": state["duplicates"],
                "leftover": leftover,
            }

    def teardown(self):
        close_all(self.clients)


# ---- 6. fanout: 10 DataWatch per path ----


class FanoutScenario:
    def __init__(self, context):
        params = context["params"]
        self.context = context
        self.paths = ["%s/p%d" % (params["fixture"], i) for i in range(int(params["paths"]))]
        self.per_path = int(params["subscribers"])
        self.changes = int(params["changes"])
        self.clients = []
        self.active = False
        self.wanted = None

    def step(self, name, round_):
        if name == "subscribe":
            self.clients = clients(self.context, 2)
            reader = self.clients[0]
            gc.collect()
            rss_before = rss_bytes()
            tracemalloc.start()
            self.active = True
            firsts = [0]
            guard = threading.Lock()
            for path in self.paths:
                for _ in range(self.per_path):
                    reader.DataWatch(path, self.subscriber(path, firsts, guard))
            deadline = time.monotonic() + WAIT_S * 5
            while firsts[0] < len(self.paths) * self.per_path and time.monotonic() < deadline:
                time.sleep(0.005)
            if firsts[0] < len(self.paths) * self.per_path:
                raise Timeout("every first value")
            gc.collect()
            heap, _peak = tracemalloc.get_traced_memory()
            overhead = tracemalloc.get_tracemalloc_memory()
            tracemalloc.stop()
            gc.collect()
            return {
                "subscriptions": len(self.paths) * self.per_path,
                "heapBytes": heap,
                # tracemalloc's own bookkeeping is not the subscriptions' memory.
                "rssBytes": rss_bytes() - rss_before - overhead,
            }
        if name == "deliver":
            writer = self.clients[1]
            samples = []
            from_call = []
            for k in range(self.changes):
                path = self.paths[(k * 7919) % len(self.paths)]
                wanted = {"path": path, "value": ("r%d-%d" % (round_, k)).encode(), "count": 0, "last": 0.0,
                          "done": threading.Event()}
                self.wanted = wanted
                called = now()
                writer.set(path, wanted["value"])
                resolved = now()
                wait(wanted["done"], WAIT_S, "change of %s to reach every subscriber" % path)
                samples.append(max(0.0, wanted["last"] - resolved))
                from_call.append(wanted["last"] - called)
                self.wanted = None
            return {"samples": samples, "fromCall": from_call}
        if name == "unsubscribe":
            # A DataWatch stops when its function returns False, i.e. at its next event: kazoo has no
            # call that removes it (or its server watch) now.
            self.active = False
            return {}
        if name == "close":
            close_all(self.clients)
            self.clients = []
            return {}
        raise ValueError("no step %s" % name)

    def subscriber(self, path, firsts, guard):
        first = [True]

        def watch(data, stat):
            if first[0]:
                first[0] = False
                with guard:
                    firsts[0] += 1
            w = self.wanted
            if w is not None and w["path"] == path and data == w["value"]:
                with guard:
                    w["last"] = now()
                    w["count"] += 1
                    if w["count"] == self.per_path:
                        w["done"].set()
            return None if self.active else False

        return watch

    def teardown(self):
        self.active = False
        close_all(self.clients)


SCENARIOS = {
    "lock": LockScenario,
    "failover": FailoverScenario,
    "change": ChangeScenario,
    "tree": TreeScenario,
    "queue": QueueScenario,
    "fanout": FanoutScenario,
}


def info():
    return {
        "kazoo": KAZOO_VERSION,
        "kazoo module": kazoo.__file__,
        "python": "%s %s" % (platform.python_implementation(), platform.python_version()),
        "handler": "SequentialThreadingHandler (default)",
    }


def main():
    # Only protocol lines go to stdout: anything else printed goes to stderr.
    out = sys.stdout
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    running = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError as error:
            out.write(json.dumps({"id": -1, "ok": False, "error": "not JSON: %s" % error}) + "\n")
            out.flush()
            continue
        reply = {"id": request.get("id"), "ok": True}
        cmd = request.get("cmd")
        scenario = request.get("scenario")
        try:
            if cmd == "hello":
                reply["info"] = info()
            elif cmd == "setup":
                if scenario in running:
                    raise RuntimeError("%s is set up already" % scenario)
                if scenario not in SCENARIOS:
                    raise ValueError("no scenario %s" % scenario)
                running[scenario] = SCENARIOS[scenario](request)
            elif cmd == "step":
                if scenario not in running:
                    raise RuntimeError("%s is not set up" % scenario)
                reply["result"] = running[scenario].step(request["step"], int(request["round"]))
            elif cmd == "teardown":
                r = running.pop(scenario, None)
                if r is not None:
                    r.teardown()
            elif cmd == "exit":
                for r in list(running.values()):
                    try:
                        r.teardown()
                    except Exception:  # noqa: BLE001 - exiting anyway
                        traceback.print_exc()
                running.clear()
            else:
                raise ValueError("unknown command %s" % cmd)
        except Exception:  # noqa: BLE001 - reported to the orchestrator
            reply = {"id": request.get("id"), "ok": False, "error": traceback.format_exc()}
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if cmd == "exit":
            break


if __name__ == "__main__":
    main()
