import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The two ends of bench/run-podnet.sh, run as a single-file program ({@code java PodNetProbe.java ...}):
 * <ul>
 *   <li>{@code serve PORT}: per connection, reads until the client half-closes, answers the byte count, closes;</li>
 *   <li>{@code connections HOST PORT N}: N sequential connect / 16-byte request / answer / close, prints the median
 *       and p90 per connection in microseconds (after N/5 warm-up connections);</li>
 *   <li>{@code bytes HOST PORT MIB}: one connection sending MIB MiB, prints MiB/s (best of 3).</li>
 * </ul>
 */
public class PodNetProbe {
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "serve" -> serve(Integer.parseInt(args[1]));
            case "connections" -> connections(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "bytes" -> bytes(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    static void serve(int port) throws Exception {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port), 512);
            System.out.println("ready");
            System.out.flush();
            while (true) {
                Socket s = server.accept();
                Thread.startVirtualThread(() -> {
                    try (s) {
                        byte[] buf = new byte[1 << 16];
                        long n = 0;
                        InputStream in = s.getInputStream();
                        for (int r; (r = in.read(buf)) > 0; ) n += r;
                        s.getOutputStream().write((n + "\n").getBytes(StandardCharsets.US_ASCII));
                    } catch (Exception ignored) {
                        // a client gone early
                    }
                });
            }
        }
    }

    static long exchange(String host, int port, byte[] payload, int repeat) throws Exception {
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), 3000);
            s.setSoTimeout(10000);
            OutputStream out = s.getOutputStream();
            for (int i = 0; i < repeat; i++) out.write(payload);
            s.shutdownOutput();
            byte[] answer = s.getInputStream().readAllBytes();
            long got = Long.parseLong(new String(answer, StandardCharsets.US_ASCII).strip());
            if (got != (long) payload.length * repeat) throw new IllegalStateException("server counted " + got);
            return got;
        }
    }

    static void connections(String host, int port, int n) throws Exception {
        byte[] request = "GET / HTTP/1.0\r\n".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < n / 5; i++) exchange(host, port, request, 1);
        long[] us = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            exchange(host, port, request, 1);
            us[i] = (System.nanoTime() - t0) / 1000;
        }
        Arrays.sort(us);
        System.out.println(us[n / 2] + " " + us[n * 9 / 10]);
    }

    static void bytes(String host, int port, int mib) throws Exception {
        byte[] chunk = new byte[1 << 20];
        double best = 0;
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime();
            exchange(host, port, chunk, mib);
            best = Math.max(best, mib / ((System.nanoTime() - t0) / 1e9));
        }
        System.out.printf("%.0f%n", best);
    }
}
