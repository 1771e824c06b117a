import io.urunc.network.NetworkAttachment;
import io.urunc.network.UnikernelNetwork;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * bench/run-attach.sh's probe: {@code AttachProbe NETNS N LOG LEVEL} attaches a container to the network namespace
 * NETNS and detaches it again, N times in this JVM, and prints one line per round: {@code attach_ms detach_ms}. The
 * daemon's own log backend (io.urunc.shim.DaemonLog) writes to LOG at LEVEL as in the daemon; at debug each attach's
 * "attached (mode) in N ms, K commands" line is there (and the JDK's own debug line with a stack trace per process
 * started, which is why the timed runs log at info). DaemonLog.toFile is package-private, hence the reflection.
 */
public class AttachProbe {
    public static void main(String[] args) throws Exception {
        Path netns = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]);
        var toFile = Class.forName("io.urunc.shim.DaemonLog").getDeclaredMethod("toFile", Path.class, String.class);
        toFile.setAccessible(true);
        toFile.invoke(null, Path.of(args[2]), args[3]);
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            NetworkAttachment a = UnikernelNetwork.attach(netns, "bench-attach-" + i);
            long t1 = System.nanoTime();
            UnikernelNetwork.detach(a);
            long t2 = System.nanoTime();
            if (!a.mode().equals(NetworkAttachment.REDIRECT)) throw new IllegalStateException("mode " + a.mode());
            System.out.printf(Locale.ROOT, "%.2f %.2f%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6);
        }
        if (!Files.exists(netns)) throw new IllegalStateException(netns + " is gone");
    }
}
