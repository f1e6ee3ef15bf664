// A Curator LeaderLatch candidate for the interop test: joins the election at PATH as ID and prints one
// JSON line per event, like test/recipes/candidate.ts. stdin: "status" prints who leads; "exit" closes.
// Usage: java -cp <curator jars>:. CuratorCandidate <connectString> <path> <id>
import java.io.BufferedReader;
import java.io.InputStreamReader;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.retry.ExponentialBackoffRetry;

public class CuratorCandidate {
  static synchronized void say(String ev, String extra) {
    long t = System.currentTimeMillis();
    System.out.println("{\"ev\":\"" + ev + "\",\"t\":" + t + extra + "}");
    System.out.flush();
  }

  public static void main(String[] args) throws Exception {
    final CuratorFramework client =
        CuratorFrameworkFactory.newClient(args[0], 3000, 15000, new ExponentialBackoffRetry(100, 5));
    client.start();
    final LeaderLatch latch = new LeaderLatch(client, args[1], args[2]);
    latch.addListener(
        new LeaderLatchListener() {
          public void isLeader() {
            // The fencing token rxzk uses: the czxid of our latch node.
            String token = "";
            try {
              token = ",\"token\":" + client.checkExists().forPath(latch.getOurPath()).getCzxid();
            } catch (Exception e) {
              token = ",\"tokenError\":\"" + e.getClass().getSimpleName() + "\"";
            }
            say("leader", token);
          }

          public void notLeader() {
            say("notLeader", "");
          }
        });
    latch.start();
    say("started", "");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    String line;
    while ((line = in.readLine()) != null) {
      line = line.trim();
      if (line.equals("status")) {
        String leader;
        try {
          leader = latch.getLeader().getId();
        } catch (Exception e) {
          leader = "";
        }
        say("status", ",\"leader\":\"" + leader + "\",\"hasLeadership\":" + latch.hasLeadership());
      } else if (line.equals("exit")) {
        break;
      }
    }
    // Leadership ends, from this process's point of view, before the latch deletes its node.
    say("resigned", "");
    latch.close();
    client.close();
    say("exit", "");
    System.exit(0);
  }
}
