// A Curator InterProcessMutex contender for the lock interop test, like test/coordination/locker.ts:
// for COUNT turns it takes the lock at LOCK_PATH and increments the decimal counter in COUNTER_PATH
// without a version (only the lock keeps writers apart), printing one JSON line per event:
//   {"ev":"acquired","node":name,"t":ms}  {"ev":"nodes","children":[...]} (once, after the first acquire)
//   {"ev":"wrote","value":n,"t":ms}  {"ev":"releasing","t":ms}  {"ev":"done"}  {"ev":"error","message":s}
// Usage: java -cp <curator jars>:. CuratorLocker <connectString> <lockPath> <counterPath> <count> [holdMs]
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

public class CuratorLocker {
  /** Our own lock node is only visible to subclasses (getLockPath is protected). */
  static class Mutex extends InterProcessMutex {
    Mutex(CuratorFramework client, String path) {
      super(client, path);
    }

    String node() {
      String path = getLockPath();
      return path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
    }
  }

  static String quote(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }

  static void say(String ev, String extra) {
    Instant now = Instant.now();
    double t = now.getEpochSecond() * 1000.0 + now.getNano() / 1e6;
    System.out.println("{\"ev\":\"" + ev + "\"" + extra + ",\"t\":" + t + "}");
    System.out.flush();
  }

  public static void main(String[] args) {
    CuratorFramework client =
        CuratorFrameworkFactory.newClient(args[0], 3000, 15000, new ExponentialBackoffRetry(100, 5));
    try {
      client.start();
      Mutex mutex = new Mutex(client, args[1]);
      String counter = args[2];
      int count = Integer.parseInt(args[3]);
      long holdMs = args.length > 4 ? Long.parseLong(args[4]) : 0;
      for (int i = 0; i < count; i++) {
        mutex.acquire();
        say("acquired", ",\"node\":" + quote(mutex.node()));
        try {
          if (i == 0) {
            List<String> children = client.getChildren().forPath(args[1]);
            StringBuilder list = new StringBuilder();
            for (String child : children) list.append(list.length() == 0 ? "" : ",").append(quote(child));
            say("nodes", ",\"children\":[" + list + "]");
          }
          byte[] data = client.getData().forPath(counter);
          int value = Integer.parseInt(new String(data, StandardCharsets.UTF_8).trim()) + 1;
          client.setData().forPath(counter, Integer.toString(value).getBytes(StandardCharsets.UTF_8));
          say("wrote", ",\"value\":" + value);
          if (holdMs > 0) Thread.sleep(holdMs);
        } finally {
          say("releasing", "");
          mutex.release();
        }
      }
      say("done", "");
      client.close();
      System.exit(0);
    } catch (Throwable e) {
      say("error", ",\"message\":" + quote(String.valueOf(e)));
      System.exit(1);
    }
  }
}
