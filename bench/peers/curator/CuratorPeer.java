// The Apache Curator 5.4 peer of the benchmark suite (bench/suite/run.ts): every scenario with the
// recipe Curator's documentation points users to, on the default retry policy its getting-started page
// shows (ExponentialBackoffRetry(1000, 3)):
//   lock      InterProcessMutex, 8 clients, each thread looping acquire()/release()
//   failover  LeaderLatch: the leader close()s, time to the next latch's isLeader() callback
//   change    CuratorCache (SINGLE_NODE_CACHE) listener sees the writer's setData
//   tree      CuratorCache on the subtree until its initialized() callback
//   queue     DistributedQueue with a lockPath (items deleted after consumeMessage returns: at least once)
//   fanout    one CuratorCache (SINGLE_NODE_CACHE) per path, 10 listeners on each
// It speaks the suite's line protocol (bench/suite/protocol.ts) on stdin/stdout; times come from
// System.nanoTime() in this process. Compiled by the suite with javac against Debian's Curator jars.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;

public class CuratorPeer {
  /** Bound on any single wait inside a step (a hang guard, far above any expected time). */
  static final long WAIT_MS = 60_000;

  static double now() {
    return System.nanoTime() / 1e6;
  }

  interface Running {
    Map<String, Object> step(String name, int round) throws Exception;

    void teardown() throws Exception;
  }

  static final class Context {
    final String connect;
    final String root;
    final int sessionTimeout;
    final Map<String, Object> params;

    Context(Map<String, Object> request) {
      connect = (String) request.get("connect");
      root = (String) request.get("root");
      sessionTimeout = ((Number) request.get("sessionTimeout")).intValue();
      @SuppressWarnings("unchecked")
      Map<String, Object> p = (Map<String, Object>) request.get("params");
      params = p;
    }

    int num(String name) {
      Object value = params.get(name);
      if (!(value instanceof Number)) throw new IllegalArgumentException("parameter " + name + " missing");
      return ((Number) value).intValue();
    }

    String str(String name) {
      Object value = params.get(name);
      if (!(value instanceof String)) throw new IllegalArgumentException("parameter " + name + " missing");
      return (String) value;
    }
  }

  // ---- sessions ----

  static CuratorFramework client(Context context) throws Exception {
    CuratorFramework client =
        CuratorFrameworkFactory.newClient(
            context.connect, context.sessionTimeout, 15_000, new ExponentialBackoffRetry(1000, 3));
    client.start();
    if (!client.blockUntilConnected((int) WAIT_MS, TimeUnit.MILLISECONDS)) {
      client.close();
      throw new IllegalStateException("Curator client did not connect to " + context.connect);
    }
    return client;
  }

  static List<CuratorFramework> clients(Context context, int n) throws Exception {
    List<CuratorFramework> list = new ArrayList<>();
    for (int i = 0; i < n; i++) list.add(client(context));
    return list;
  }

  static void closeAll(List<CuratorFramework> clients) {
    for (CuratorFramework c : clients) c.close();
  }

  static <T> T await(CompletableFuture<T> future, String what) throws Exception {
    try {
      return future.get(WAIT_MS, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("timed out after " + WAIT_MS + " ms: " + what);
    }
  }

  static void await(CountDownLatch latch, long ms, String what) throws Exception {
    if (!latch.await(ms, TimeUnit.MILLISECONDS))
      throw new IllegalStateException("timed out after " + ms + " ms: " + what);
  }

  /** Handoff gaps: turns sorted by acquisition, next acquisition minus previous release. */
  static Map<String, Object> handoffs(List<double[]> turns, double elapsed, int maxHolders) {
    List<double[]> sorted = new ArrayList<>(turns);
    sorted.sort((a, b) -> Double.compare(a[0], b[0]));
    List<Double> samples = new ArrayList<>();
    int overlaps = 0;
    for (int i = 1; i < sorted.size(); i++) {
      double gap = sorted.get(i)[0] - sorted.get(i - 1)[1];
      if (gap < 0) overlaps++;
      samples.add(Math.max(0, gap));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("throughput", turns.size() / elapsed * 1000);
    out.put("acquisitions", turns.size());
    out.put("maxHolders", maxHolders);
    out.put("overlaps", overlaps);
    out.put("samples", samples);
    return out;
  }

  // ---- 1. lock: InterProcessMutex ----

  static Running lock(Context context) throws Exception {
    int turns = context.num("turns");
    List<CuratorFramework> clients = clients(context, context.num("contenders"));
    String path = context.root + "/lock";
    List<InterProcessMutex> mutexes = new ArrayList<>();
    for (CuratorFramework c : clients) mutexes.add(new InterProcessMutex(c, path));
    return new Running() {
      public Map<String, Object> step(String name, int round) throws Exception {
        List<double[]> log = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger holders = new AtomicInteger();
        AtomicInteger maxHolders = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (InterProcessMutex mutex : mutexes) {
          Thread t =
              new Thread(
                  () -> {
                    try {
                      go.await();
                      for (int i = 0; i < turns; i++) {
                        if (!mutex.acquire(WAIT_MS, TimeUnit.MILLISECONDS))
                          throw new IllegalStateException("acquire timed out");
                        double acquired = now();
                        maxHolders.accumulateAndGet(holders.incrementAndGet(), Math::max);
                        holders.decrementAndGet();
                        log.add(new double[] {acquired, now()});
                        mutex.release();
                      }
                    } catch (Throwable e) {
                      failed.compareAndSet(null, e);
                    }
                  });
          t.start();
          threads.add(t);
        }
        double started = now();
        go.countDown();
        for (Thread t : threads) t.join(WAIT_MS * 5);
        double elapsed = now() - started;
        if (failed.get() != null) throw new IllegalStateException("contender failed: " + failed.get(), failed.get());
        return handoffs(log, elapsed, maxHolders.get());
      }

      public void teardown() {
        closeAll(clients);
      }
    };
  }

  // ---- 2. failover: LeaderLatch ----

  static final class Seat {
    final CuratorFramework client;
    final String id;
    volatile LeaderLatch latch;
    volatile boolean leading;

    Seat(CuratorFramework client, String id) {
      this.client = client;
      this.id = id;
    }
  }

  static Running failover(Context context) throws Exception {
    int failovers = context.num("failovers");
    List<CuratorFramework> clients = clients(context, context.num("candidates"));
    String path = context.root + "/election";
    List<Seat> seats = new ArrayList<>();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicReference<CompletableFuture<Double>> nextLeader = new AtomicReference<>(new CompletableFuture<>());
    for (int i = 0; i < clients.size(); i++) seats.add(new Seat(clients.get(i), "c" + i));
    class Join {
      void join(Seat seat) throws Exception {
        LeaderLatch latch = new LeaderLatch(seat.client, path, seat.id);
        latch.addListener(
            new LeaderLatchListener() {
              public void isLeader() {
                double at = now();
                for (Seat s : seats) if (s != seat && s.leading) overlaps.incrementAndGet();
                seat.leading = true;
                nextLeader.get().complete(at);
              }

              public void notLeader() {
                seat.leading = false;
              }
            });
        seat.latch = latch;
        latch.start();
      }
    }
    Join joiner = new Join();
    CompletableFuture<Double> first = nextLeader.get();
    for (Seat s : seats) joiner.join(s);
    await(first, "a first leader");
    CuratorFramework observer = clients.get(0);
    return new Running() {
      public Map<String, Object> step(String name, int round) throws Exception {
        List<Double> samples = new ArrayList<>();
        overlaps.set(0);
        for (int k = 0; k < failovers; k++) {
          Seat leader = null;
          for (Seat s : seats) if (s.leading) leader = s;
          if (leader == null) throw new IllegalStateException("no leader before a failover");
          CompletableFuture<Double> next = new CompletableFuture<>();
          nextLeader.set(next);
          leader.leading = false;
          double t0 = now();
          leader.latch.close();
          double t1 = await(next, "the next leader");
          samples.add(t1 - t0);
          // The old leader queues again (untimed) before the next failover.
          joiner.join(leader);
          double deadline = now() + WAIT_MS;
          while (observer.getChildren().forPath(path).size() < seats.size() && now() < deadline)
            Thread.sleep(1);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("samples", samples);
        out.put("failovers", samples.size());
        out.put("overlaps", overlaps.get());
        return out;
      }

      public void teardown() throws Exception {
        for (Seat s : seats) {
          if (s.latch != null && s.latch.getState() == LeaderLatch.State.STARTED) s.latch.close();
        }
        closeAll(clients);
      }
    };
  }

  // ---- 3. change: CuratorCache on one node ----

  static Running change(Context context) throws Exception {
    int changes = context.num("changes");
    List<CuratorFramework> clients = clients(context, 2);
    CuratorFramework writer = clients.get(0);
    CuratorFramework reader = clients.get(1);
    String path = context.root + "/node";
    writer.create().creatingParentsIfNeeded().forPath(path, "start".getBytes(StandardCharsets.UTF_8));
    AtomicReference<String> expected = new AtomicReference<>("start");
    AtomicReference<CompletableFuture<Double>> seen = new AtomicReference<>(new CompletableFuture<>());
    CountDownLatch initialized = new CountDownLatch(1);
    CuratorCache cache = CuratorCache.build(reader, path, CuratorCache.Options.SINGLE_NODE_CACHE);
    cache
        .listenable()
        .addListener(
            CuratorCacheListener.builder()
                .forCreatesAndChanges(
                    (old, node) -> {
                      double at = now();
                      if (new String(node.getData(), StandardCharsets.UTF_8).equals(expected.get()))
                        seen.get().complete(at);
                    })
                .forInitialized(initialized::countDown)
                .build());
    cache.start();
    await(initialized, WAIT_MS, "the cache to initialize");
    return new Running() {
      public Map<String, Object> step(String name, int round) throws Exception {
        List<Double> samples = new ArrayList<>();
        List<Double> fromCall = new ArrayList<>();
        int early = 0;
        for (int i = 0; i < changes; i++) {
          String value = "r" + round + "-" + i;
          CompletableFuture<Double> sawIt = new CompletableFuture<>();
          seen.set(sawIt);
          expected.set(value);
          double called = now();
          writer.setData().forPath(path, value.getBytes(StandardCharsets.UTF_8));
          double resolved = now();
          double at = await(sawIt, "change " + value);
          if (at < resolved) early++;
          samples.add(Math.max(0, at - resolved));
          fromCall.add(at - called);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("samples", samples);
        out.put("fromCall", fromCall);
        out.put("early", early);
        return out;
      }

      public void teardown() {
        cache.close();
        closeAll(clients);
      }
    };
  }

  // ---- 4. tree: CuratorCache on the subtree ----

  static Running tree(Context context) {
    String fixture = context.str("fixture");
    return new Running() {
      public Map<String, Object> step(String name, int round) throws Exception {
        CuratorFramework client = client(context);
        try {
          CountDownLatch initialized = new CountDownLatch(1);
          double started = now();
          CuratorCache cache = CuratorCache.build(client, fixture);
          cache.listenable().addListener(CuratorCacheListener.builder().forInitialized(initialized::countDown).build());
          cache.start();
          await(initialized, WAIT_MS * 5, "the cache to initialize");
          double elapsed = now() - started;
          int nodes = cache.size();
          cache.close();
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("samples", List.of(elapsed));
          out.put("nodes", nodes);
          return out;
        } finally {
          client.close();
        }
      }

      public void teardown() {}
    };
  }

  // ---- 5. queue: DistributedQueue with a lock path ----

  static final QueueSerializer<String> TEXT =
      new QueueSerializer<String>() {
        public byte[] serialize(String item) {
          return item.getBytes(StandardCharsets.UTF_8);
        }

        public String deserialize(byte[] bytes) {
          return new String(bytes, StandardCharsets.UTF_8);
        }
      };

  static Running queue(Context context) throws Exception {
    int items = context.num("items");
    List<CuratorFramework> clients = clients(context, 1 + context.num("consumers"));
    CuratorFramework producerClient = clients.get(0);
    return new Running() {
      public Map<String, Object> step(String name, int round) throws Exception {
        String path = context.root + "/q" + round;
        double[] putAt = new double[items];
        Set<Integer> delivered = new HashSet<>();
        List<Double> samples = new ArrayList<>();
        AtomicInteger duplicates = new AtomicInteger();
        CompletableFuture<Double> done = new CompletableFuture<>();
        QueueConsumer<String> consumer =
            new QueueConsumer<String>() {
              public void consumeMessage(String message) {
                double at = now();
                int i = Integer.parseInt(message);
                synchronized (delivered) {
                  if (!delivered.add(i)) duplicates.incrementAndGet();
                  else {
                    samples.add(at - putAt[i]);
                    if (delivered.size() == items) done.complete(at);
                  }
                }
              }

              public void stateChanged(CuratorFramework client, ConnectionState newState) {}
            };
        List<DistributedQueue<String>> consumers = new ArrayList<>();
        for (CuratorFramework c : clients.subList(1, clients.size())) {
          DistributedQueue<String> q =
              QueueBuilder.builder(c, consumer, TEXT, path).lockPath(path + "-locks").buildQueue();
          q.start();
          consumers.add(q);
        }
        // The producer awaits each put, as the other peers' producers do (Curator's default puts in the
        // background and returns at once).
        DistributedQueue<String> producer =
            QueueBuilder.builder(producerClient, null, TEXT, path).putInBackground(false).buildQueue();
        producer.start();
        Thread.sleep(200);
        double started = now();
        for (int i = 0; i < items; i++) {
          putAt[i] = now();
          producer.put(Integer.toString(i));
        }
        double ended = await(done, "every item delivered");
        double deadline = now() + WAIT_MS;
        int leftover = left(producerClient, path);
        while (leftover > 0 && now() < deadline) {
          Thread.sleep(10);
          leftover = left(producerClient, path);
        }
        for (DistributedQueue<String> q : consumers) q.close();
        producer.close();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("throughput", items / (ended - started) * 1000);
        synchronized (delivered) {
          out.put("samples", new ArrayList<>(samples));
          out.put("delivered", delivered.size());
        }
        out.put("duplicates", duplicates.get());
        out.put("leftover", leftover);
        return out;
      }

      public void teardown() {
        closeAll(clients);
      }
    };
  }

  static int left(CuratorFramework client, String path) throws Exception {
    int n = 0;
    for (String child : client.getChildren().forPath(path)) if (child.startsWith("queue-")) n++;
    return n;
  }

  // ---- 6. fanout: a CuratorCache per path, 10 listeners each ----

  static final class Wanted {
    final String path;
    final String value;
    final AtomicInteger count = new AtomicInteger();
    volatile double last;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    Wanted(String path, String value) {
      this.path = path;
      this.value = value;
    }
  }

  static Running fanout(Context context) {
    String fixture = context.str("fixture");
    int pathCount = context.num("paths");
    int perPath = context.num("subscribers");
    int changes = context.num("changes");
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < pathCount; i++) paths.add(fixture + "/p" + i);
    return new Running() {
      List<CuratorFramework> clients = new ArrayList<>();
      List<CuratorCache> caches = new ArrayList<>();
      volatile Wanted wanted;

      public Map<String, Object> step(String name, int round) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        switch (name) {
          case "subscribe":
            {
              clients = clients(context, 2);
              CuratorFramework reader = clients.get(0);
              long[] before = memory();
              CountDownLatch firsts = new CountDownLatch(pathCount * perPath);
              for (String path : paths) {
                CuratorCache cache = CuratorCache.build(reader, path, CuratorCache.Options.SINGLE_NODE_CACHE);
                for (int k = 0; k < perPath; k++) {
                  cache
                      .listenable()
                      .addListener(
                          CuratorCacheListener.builder()
                              .forChanges(
                                  (old, node) -> {
                                    Wanted w = wanted;
                                    if (w != null
                                        && w.path.equals(node.getPath())
                                        && new String(node.getData(), StandardCharsets.UTF_8).equals(w.value)) {
                                      w.last = now();
                                      if (w.count.incrementAndGet() == perPath) w.done.complete(null);
                                    }
                                  })
                              .forInitialized(firsts::countDown)
                              .build());
                }
                cache.start();
                caches.add(cache);
              }
              await(firsts, WAIT_MS * 5, "every first value");
              long[] after = memory();
              out.put("subscriptions", pathCount * perPath);
              out.put("heapBytes", after[0] - before[0]);
              out.put("rssBytes", after[1] - before[1]);
              return out;
            }
          case "deliver":
            {
              CuratorFramework writer = clients.get(1);
              List<Double> samples = new ArrayList<>();
              List<Double> fromCall = new ArrayList<>();
              for (int k = 0; k < changes; k++) {
                String path = paths.get((int) (((long) k * 7919) % pathCount));
                Wanted w = new Wanted(path, "r" + round + "-" + k);
                wanted = w;
                double called = now();
                writer.setData().forPath(path, w.value.getBytes(StandardCharsets.UTF_8));
                double resolved = now();
                await(w.done, "change of " + path + " to reach every subscriber");
                samples.add(Math.max(0, w.last - resolved));
                fromCall.add(w.last - called);
                wanted = null;
              }
              out.put("samples", samples);
              out.put("fromCall", fromCall);
              return out;
            }
          case "unsubscribe":
            for (CuratorCache cache : caches) cache.close();
            caches = new ArrayList<>();
            return out;
          case "close":
            closeAll(clients);
            clients = new ArrayList<>();
            return out;
          default:
            throw new IllegalArgumentException("no step " + name);
        }
      }

      public void teardown() {
        for (CuratorCache cache : caches) cache.close();
        closeAll(clients);
      }
    };
  }

  /** Heap in use after full collections, and RSS, in bytes. */
  static long[] memory() throws Exception {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(20);
    }
    long heap = runtime.totalMemory() - runtime.freeMemory();
    long rss = 0;
    for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
    }
    return new long[] {heap, rss};
  }

  // ---- protocol ----

  static Map<String, Object> info() {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("curator", pomVersion("org.apache.curator", "curator-recipes"));
    info.put("zookeeper (Java client)", org.apache.zookeeper.Version.getFullVersion());
    info.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    info.put("jvm flags", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
    info.put("retry policy", "ExponentialBackoffRetry(1000, 3)");
    return info;
  }

  static String pomVersion(String group, String artifact) {
    String resource = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
    try (var in = LeaderLatch.class.getResourceAsStream(resource)) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        return p.getProperty("version", "unknown");
      }
    } catch (Exception ignored) {
      // Fall through to the manifest.
    }
    String v = LeaderLatch.class.getPackage().getImplementationVersion();
    return v == null ? "unknown" : v;
  }

  static Running setup(String scenario, Context context) throws Exception {
    switch (scenario) {
      case "lock":
        return lock(context);
      case "failover":
        return failover(context);
      case "change":
        return change(context);
      case "tree":
        return tree(context);
      case "queue":
        return queue(context);
      case "fanout":
        return fanout(context);
      default:
        throw new IllegalArgumentException("no scenario " + scenario);
    }
  }

  public static void main(String[] args) throws Exception {
    // Only protocol lines go to stdout: anything else that prints there is sent to stderr.
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8");
    System.setOut(System.err);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    Map<String, Running> running = new LinkedHashMap<>();
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) continue;
      Map<String, Object> request;
      try {
        @SuppressWarnings("unchecked")
        Map<String, Object> parsed = (Map<String, Object>) Json.parse(line);
        request = parsed;
      } catch (RuntimeException e) {
        out.println("{\"id\":-1,\"ok\":false,\"error\":" + Json.quote("not JSON: " + e.getMessage()) + "}");
        continue;
      }
      Map<String, Object> reply = new LinkedHashMap<>();
      reply.put("id", request.get("id"));
      String cmd = (String) request.get("cmd");
      try {
        String scenario = (String) request.get("scenario");
        switch (cmd) {
          case "hello":
            reply.put("info", info());
            break;
          case "setup":
            if (running.containsKey(scenario)) throw new IllegalStateException(scenario + " is set up already");
            running.put(scenario, setup(scenario, new Context(request)));
            break;
          case "step":
            {
              Running r = running.get(scenario);
              if (r == null) throw new IllegalStateException(scenario + " is not set up");
              reply.put("result", r.step((String) request.get("step"), ((Number) request.get("round")).intValue()));
              break;
            }
          case "teardown":
            {
              Running r = running.remove(scenario);
              if (r != null) r.teardown();
              break;
            }
          case "exit":
            for (Running r : running.values()) {
              try {
                r.teardown();
              } catch (Exception ignored) {
                // Exiting anyway.
              }
            }
            running.clear();
            break;
          default:
            throw new IllegalArgumentException("unknown command " + cmd);
        }
        reply.put("ok", true);
      } catch (Throwable e) {
        reply.put("ok", false);
        java.io.StringWriter trace = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(trace));
        reply.put("error", trace.toString());
      }
      out.println(Json.write(reply));
      if ("exit".equals(cmd)) break;
    }
    System.exit(0);
  }

  /** Just enough JSON for the protocol: objects, arrays, strings, numbers, booleans, null. */
  static final class Json {
    private final String s;
    private int i;

    private Json(String s) {
      this.s = s;
    }

    static Object parse(String text) {
      Json p = new Json(text);
      Object value = p.value();
      p.space();
      if (p.i != text.length()) throw new IllegalArgumentException("trailing text at " + p.i);
      return value;
    }

    private void space() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    }

    private Object value() {
      space();
      if (i >= s.length()) throw new IllegalArgumentException("unexpected end");
      char c = s.charAt(i);
      if (c == '{') {
        i++;
        Map<String, Object> map = new LinkedHashMap<>();
        space();
        if (s.charAt(i) == '}') {
          i++;
          return map;
        }
        for (;;) {
          space();
          String key = string();
          space();
          expect(':');
          map.put(key, value());
          space();
          if (s.charAt(i) == ',') i++;
          else {
            expect('}');
            return map;
          }
        }
      }
      if (c == '[') {
        i++;
        List<Object> list = new ArrayList<>();
        space();
        if (s.charAt(i) == ']') {
          i++;
          return list;
        }
        for (;;) {
          list.add(value());
          space();
          if (s.charAt(i) == ',') i++;
          else {
            expect(']');
            return list;
          }
        }
      }
      if (c == '"') return string();
      if (s.startsWith("true", i)) {
        i += 4;
        return Boolean.TRUE;
      }
      if (s.startsWith("false", i)) {
        i += 5;
        return Boolean.FALSE;
      }
      if (s.startsWith("null", i)) {
        i += 4;
        return null;
      }
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
      if (start == i) throw new IllegalArgumentException("unexpected '" + c + "' at " + i);
      return Double.parseDouble(s.substring(start, i));
    }

    private void expect(char c) {
      if (i >= s.length() || s.charAt(i) != c) throw new IllegalArgumentException("expected '" + c + "' at " + i);
      i++;
    }

    private String string() {
      expect('"');
      StringBuilder out = new StringBuilder();
      for (;;) {
        char c = s.charAt(i++);
        if (c == '"') return out.toString();
        if (c != '\\') {
          out.append(c);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case 'n':
            out.append('\n');
            break;
          case 't':
            out.append('\t');
            break;
          case 'r':
            out.append('\r');
            break;
          case 'b':
            out.append('\b');
            break;
          case 'f':
            out.append('\f');
            break;
          case 'u':
            out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
            break;
          default:
            out.append(e);
        }
      }
    }

    static String quote(String text) {
      StringBuilder out = new StringBuilder("\"");
      for (char c : text.toCharArray()) {
        if (c == '"' || c == '\\') out.append('\\').append(c);
        else if (c == '\n') out.append("\\n");
        else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
        else out.append(c);
      }
      return out.append('"').toString();
    }

    static String write(Object value) {
      if (value == null) return "null";
      if (value instanceof String) return quote((String) value);
      if (value instanceof Double || value instanceof Float) {
        double d = ((Number) value).doubleValue();
        if (!Double.isFinite(d)) return "null";
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
      }
      if (value instanceof Number || value instanceof Boolean) return value.toString();
      if (value instanceof Map) {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
          if (out.length() > 1) out.append(',');
          out.append(quote(String.valueOf(e.getKey()))).append(':').append(write(e.getValue()));
        }
        return out.append('}').toString();
      }
      if (value instanceof List) {
        StringBuilder out = new StringBuilder("[");
        for (Object item : (List<?>) value) {
          if (out.length() > 1) out.append(',');
          out.append(write(item));
        }
        return out.append(']').toString();
      }
      return quote(value.toString());
    }
  }
}
