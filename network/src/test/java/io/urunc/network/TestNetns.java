package io.urunc.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A throw-away network namespace pair for tests: "pod" (the container's netns, eth0 = one end of a veth)
 * and "host" (the other end with the gateway address). Closing deletes both namespaces, which removes
 * every link, tap, qdisc and filter created in them.
 */
final class TestNetns implements AutoCloseable {
    final String pod;
    final String host;
    final List<String> created = new ArrayList<>();

    private TestNetns() {
        String tag = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
        pod = "urjt-p" + tag;
        host = "urjt-h" + tag;
    }

    /** Only a namespace with loopback. */
    static TestNetns loopbackOnly() throws IOException {
        TestNetns t = new TestNetns();
        t.addNetns(t.pod);
        sh("ip", "-n", t.pod, "link", "set", "lo", "up");
        return t;
    }

    /** pod eth0 10.77.0.2/24 (MAC 02:00:00:00:77:02, MTU 1400, default via 10.77.0.1) <-> host vh0 10.77.0.1/24. */
    static TestNetns withVeth() throws IOException {
        TestNetns t = new TestNetns();
        try {
            t.addNetns(t.pod);
            t.addNetns(t.host);
            sh("ip", "-n", t.host, "link", "add", "vh0", "type", "veth", "peer", "name", "eth0", "netns", t.pod);
            sh("ip", "-n", t.host, "addr", "add", "10.77.0.1/24", "dev", "vh0");
            sh("ip", "-n", t.host, "link", "set", "vh0", "mtu", "1400", "up");
            sh("ip", "-n", t.pod, "link", "set", "eth0", "address", "02:00:00:00:77:02", "mtu", "1400");
            sh("ip", "-n", t.pod, "addr", "add", "10.77.0.2/24", "dev", "eth0");
            sh("ip", "-n", t.pod, "link", "set", "eth0", "up");
            sh("ip", "-n", t.pod, "link", "set", "lo", "up");
            sh("ip", "-n", t.pod, "route", "add", "default", "via", "10.77.0.1");
            return t;
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
    }

    Path podPath() {
        return Path.of("/var/run/netns", pod);
    }

    Path hostPath() {
        return Path.of("/var/run/netns", host);
    }

    private void addNetns(String name) throws IOException {
        sh("ip", "netns", "add", name);
        created.add(name);
    }

    /** Runs a command, failing the test with its stderr when it exits non-zero; returns stdout. */
    static String sh(String... argv) throws IOException {
        Result r = run(argv);
        if (r.exit != 0) throw new IOException(String.join(" ", argv) + " failed: " + r.err);
        return r.out;
    }

    static Result run(String... argv) throws IOException {
        Process p = new ProcessBuilder(argv).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Result(p.waitFor(), out, err);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    record Result(int exit, String out, String err) {}

    @Override
    public void close() {
        for (String name : created) {
            try {
                run("ip", "netns", "del", name);
            } catch (IOException ignored) {
                // best effort: the namespace may already be gone
            }
        }
    }
}
