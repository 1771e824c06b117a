package io.urunc.it.network;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Http;
import io.urunc.it.support.Netns;
import io.urunc.it.support.Processes;
import io.urunc.it.support.TaskStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A unikernel HTTP server in a prepared network namespace answers from the host, like a container would. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NetworkIT {
    private Containerd containerd;

    @BeforeAll
    void start() throws Exception {
        containerd = Containerd.start();
        Guests.importInto(containerd, "default", "httpd", "tiny");
    }

    @AfterAll
    void stop() {
        if (containerd != null) containerd.close();
    }

    @Test
    void httpGuestAnswersOnTheContainersAddressAndCleansUp() throws Exception {
        try (Netns ns = new Netns("uit-http", 77)) {
            containerd.ctr("run", "-d", "--runtime", "io.containerd.urunc.v2", "--with-ns", "network:" + ns.path(),
                    Guests.HTTPD, "web").ok();
            try {
                String body = Http.getWithin(Duration.ofSeconds(90), "http://" + ns.containerIp + "/", containerd::shimLogs);
                assertTrue(body.contains("URUNC-HTTPD-OK"), body);
                assertTrue(ns.links().contains("urt"), "the VM's tap is in the container's netns: " + ns.links());
                long qemu = io.urunc.it.support.Processes.qemus(containerd.uruncStateDir().toString())
                        .getFirst().pid();
                assertEquals(java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/" + qemu + "/ns/net")).toString(),
                        "net:[" + java.nio.file.Files.getAttribute(java.nio.file.Path.of(ns.path()), "unix:ino") + "]",
                        "QEMU runs in the container's network namespace");
            } finally {
                containerd.ctr("task", "kill", "-s", "SIGKILL", "web");
                Thread.sleep(500);
                containerd.ctr("task", "delete", "-f", "web");
                containerd.ctr("container", "delete", "web");
            }
            assertFalse(ns.links().contains("urt"), "tap removed: " + ns.links());
            assertTrue(ns.ingressFilters("eth0").isBlank(), "redirect removed: " + ns.ingressFilters("eth0"));
            assertFalse(ns.qdiscs().contains("ingress"), "ingress qdisc removed: " + ns.qdiscs());
        }
    }

    @Test
    void twoUnikernelsShareOneNetworkNamespace() throws Exception {
        try (Netns ns = new Netns("uit-two", 78)) {
            String with = "network:" + ns.path();
            try {
                containerd.ctr("run", "-d", "--runtime", "io.containerd.urunc.v2", "--with-ns", with, Guests.HTTPD, "first").ok();
                containerd.ctr("run", "-d", "--runtime", "io.containerd.urunc.v2", "--with-ns", with, Guests.HTTPD, "second").ok();
                // The first takes over eth0: reachable from outside on the container's address.
                assertTrue(Http.getWithin(Duration.ofSeconds(90), "http://" + ns.containerIp + "/", containerd::shimLogs).contains("URUNC-HTTPD-OK"));
                // The second gets a private /30 on its own tap: reachable from inside the pod's netns.
                String tapAddr = Exec.run(Duration.ofSeconds(10), java.util.Map.of(), "ip", "-n", ns.name(), "-o", "-4",
                        "addr", "show").stdout().lines().filter(l -> l.contains("urt") && l.contains("169.254."))
                        .map(l -> l.replaceAll(".*inet (\\S+)/30.*", "$1")).findFirst().orElseThrow(
                                () -> new AssertionError("no private tap address: " + ns.links()));
                String[] o = tapAddr.split("\\.");
                String guest = o[0] + "." + o[1] + "." + o[2] + "." + (Integer.parseInt(o[3]) + 1);
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                Exec.Result get;
                do {
                    get = Exec.run(Duration.ofSeconds(10), java.util.Map.of(), "ip", "netns", "exec", ns.name(),
                            "curl", "-s", "--max-time", "3", "http://" + guest + "/");
                    if (get.exit() == 0) break;
                    Thread.sleep(500);
                } while (System.nanoTime() < deadline);
                assertTrue(get.stdout().contains("URUNC-HTTPD-OK"), "private guest " + guest + ": " + get);
            } finally {
                for (String id : new String[] {"first", "second"}) {
                    containerd.ctr("task", "kill", "-s", "SIGKILL", id);
                }
                Thread.sleep(500);
                for (String id : new String[] {"first", "second"}) {
                    containerd.ctr("task", "delete", "-f", id);
                    containerd.ctr("container", "delete", id);
                }
            }
            assertFalse(ns.links().contains("urt"), "both taps removed: " + ns.links());
            assertFalse(ns.qdiscs().contains("ingress"), "ingress qdiscs removed: " + ns.qdiscs());
        }
    }

    /** containerd runs the shim's delete when the daemon dies: the tap and the uplink's redirect go with the task. */
    @Test
    void aKilledDaemonsTapAndRedirectAreRemovedByShimDelete() throws Exception {
        try (Netns ns = new Netns(unique("uit-kill"), 79)) {
            containerd.ctr("run", "-d", "--runtime", "io.containerd.urunc.v2", "--with-ns", "network:" + ns.path(),
                    Guests.HTTPD, "net-kill").ok();
            try {
                TaskStatus.await(containerd, "net-kill", "RUNNING", containerd::shimLogs);
                assertTrue(ns.links().contains("urt"), "the VM's tap: " + ns.links());
                assertFalse(ns.ingressFilters("eth0").isBlank(), "eth0 is redirected to the tap");
                List<ProcessHandle> daemons = Processes.matching("io.urunc.shim.Main").stream()
                        .filter(p -> Processes.cmdline(p.pid()).contains(containerd.socket().toString()))
                        .filter(p -> Processes.cmdline(p.pid()).endsWith(" daemon ")).toList();
                assertEquals(1, daemons.size(), daemons.toString());

                daemons.getFirst().destroyForcibly();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (ns.links().contains("urt") || !Processes.qemus(containerd.uruncStateDir().toString()).isEmpty()) {
                    if (System.nanoTime() > deadline) fail("after the daemon died: " + ns.links() + containerd.shimLogs());
                    Thread.sleep(200);
                }
                assertTrue(ns.ingressFilters("eth0").isBlank(), "redirect removed: " + ns.ingressFilters("eth0"));
                assertFalse(ns.qdiscs().contains("ingress"), "ingress qdisc removed: " + ns.qdiscs());
            } finally {
                containerd.ctr("task", "delete", "-f", "net-kill");
                containerd.ctr("container", "delete", "net-kill");
            }
        }
    }

    /**
     * An uplink another tool filters with a clsact qdisc: attach's tc batch fails on the uplink's line after the
     * tap was made; Create fails naming the problem and nothing of the attach is left.
     */
    @Test
    void anAttachFailingHalfWayFailsCreateAndLeavesNothing() throws Exception {
        try (Netns ns = new Netns(unique("uit-clsact"), 80)) {
            Exec.run(Duration.ofSeconds(10), java.util.Map.of(), "tc", "-n", ns.name(), "qdisc", "add", "dev", "eth0", "clsact").ok();
            Exec.Result r = containerd.ctr(Duration.ofSeconds(60), "run", "--rm", "--runtime", "io.containerd.urunc.v2",
                    "--with-ns", "network:" + ns.path(), Guests.TINY, "net-clsact", "exit=0");
            containerd.ctr("container", "delete", "net-clsact");
            assertNotEquals(0, r.exit(), r.toString());
            assertTrue(r.stderr().contains("clsact") && r.stderr().contains("eth0"), r.toString());
            assertFalse(ns.links().contains("urt"), "tap removed: " + ns.links());
            assertTrue(ns.qdiscs().contains("clsact"), "the other tool's qdisc stays: " + ns.qdiscs());
            assertFalse(ns.qdiscs().contains("qdisc ingress"), ns.qdiscs());
            assertTrue(Processes.qemus(containerd.uruncStateDir().toString()).isEmpty(), "no VMM");
        }
    }

    private static String unique(String prefix) {
        return prefix + Integer.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    }

    @Test
    void aNamespaceWithOnlyLoopbackGivesAVmWithoutNic() throws Exception {
        Netns.ip("netns", "add", "uit-lo");
        try {
            Exec.Result r = containerd.ctr(Duration.ofSeconds(60), "run", "--rm", "--runtime", "io.containerd.urunc.v2",
                    "--with-ns", "network:/var/run/netns/uit-lo", Guests.TINY, "lo-only", "exit=0");
            assertEquals(0, r.exit(), r + containerd.shimLogs());
            assertTrue(r.stdout().contains("TINY: booted"), r.toString());
        } finally {
            Netns.ip("netns", "del", "uit-lo");
        }
    }
}
