package io.urunc.network;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.urunc.network.TestNetns.run;
import static io.urunc.network.TestNetns.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Routed mode in real namespaces: the pod keeps its interface, the guest gets the pod IP's connections. */
class PodNetworkTest {
    private static final AttachOptions POD_HTTP = AttachOptions.defaults().inPod(List.of(new GuestPort(80, "tcp")));

    @Test
    void theGuestIsRoutedAndThePodKeepsItsInterface() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            sh("ip", "netns", "exec", ns.pod, "sysctl", "-qw", "net/ipv4/conf/eth0/forwarding=0");
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "pod-app-1", POD_HTTP);
            try {
                assertEquals(NetworkAttachment.ROUTED, att.mode());
                GuestNetworkConfig g = att.guest().orElseThrow();
                assertEquals("169.254.100.2", g.ipv4());
                assertEquals(30, g.prefixLength());
                assertEquals("169.254.100.1", g.gateway());
                assertEquals(TapNames.privateMacFor("pod-app-1"), g.mac());
                assertEquals(1400, g.mtu());
                assertEquals(List.of("10.77.0.2/24"), addresses(ns.pod, "eth0"), "the pod IP stays on eth0");
                assertEquals("1", sysctl(ns.pod, "net/ipv4/conf/eth0/forwarding"));
                assertTrue(sh("ip", "netns", "exec", ns.pod, "nft", "list", "tables").contains("urunc_" + att.tapName()));

                assertTrue(ping(ns.podPath(), "10.77.0.1"), "the pod's own stack still reaches the node");
                try (TapResponder guest = TapResponder.start(ns.podPath(), att.tapName(), g.ipv4(), g.mac())) {
                    awaitCarrier(ns.pod, att.tapName());
                    assertTrue(ping(ns.hostPath(), "10.77.0.2"), "the node's ping of the pod IP reaches the guest");
                    assertTrue(guest.echoReplies.get() >= 1, "the guest answered: " + guest.echoReplies.get());
                    assertTrue(ping(ns.podPath(), g.ipv4()), "the pod reaches the guest on its address");
                    assertTrue(ping(ns.podPath(), "10.77.0.1"), "and the node, while the guest is up");
                }
            } finally {
                UnikernelNetwork.detach(att);
            }
            assertFalse(sh("ip", "netns", "exec", ns.pod, "nft", "list", "tables").contains("urunc_"));
            assertEquals("0", sysctl(ns.pod, "net/ipv4/conf/eth0/forwarding"), "forwarding back off");
            assertFalse(sh("ip", "-n", ns.pod, "-o", "link").contains("urt"));
        }
    }

    @Test
    void aListenerOfThePodKeepsItsPortFromOutside() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            Path www = Files.createTempDirectory("urjt-www");
            Files.writeString(www.resolve("index.html"), "SIDECAR\n");
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "pod-app-2", POD_HTTP);
            Process sidecar = new ProcessBuilder("ip", "netns", "exec", ns.pod, "busybox", "httpd", "-f", "-p", "8012",
                    "-h", www.toString()).start();
            try {
                String body = "";
                for (int i = 0; i < 50 && !body.contains("SIDECAR"); i++) {
                    Thread.sleep(100);
                    body = run("ip", "netns", "exec", ns.host, "curl", "-sS", "-m", "2", "http://10.77.0.2:8012/").out();
                }
                assertEquals("SIDECAR\n", body, "a port a sidecar listens on is not sent to the guest");
                TestNetns.Result guestPort = run("ip", "netns", "exec", ns.host, "curl", "-sS", "-m", "2",
                        "http://10.77.0.2:80/");
                assertTrue(guestPort.exit() != 0, "port 80 goes to the guest (no guest here: no answer)");
            } finally {
                sidecar.destroyForcibly().waitFor();
                UnikernelNetwork.detach(att);
                sh("rm", "-rf", www.toString());
            }
        }
    }

    @Test
    void aSecondGuestGetsItsOwnBlockAndForwardingOutlivesTheFirst() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            sh("ip", "netns", "exec", ns.pod, "sysctl", "-qw", "net/ipv4/conf/eth0/forwarding=0");
            NetworkAttachment first = UnikernelNetwork.attach(ns.podPath(), "pod-a", POD_HTTP);
            NetworkException clash = assertThrows(NetworkException.class,
                    () -> UnikernelNetwork.attach(ns.podPath(), "pod-b", POD_HTTP));
            assertTrue(clash.getMessage().contains("80/tcp") && clash.getMessage().contains("pod-a"), clash.getMessage());
            assertEquals(List.of("urunc_" + first.tapName()), tables(ns.pod), "the refused guest left nothing");

            NetworkAttachment second = UnikernelNetwork.attach(ns.podPath(), "pod-b",
                    AttachOptions.defaults().inPod(List.of(new GuestPort(8081, "tcp"))));
            assertEquals(NetworkAttachment.ROUTED, second.mode());
            assertEquals("169.254.100.6", second.guest().orElseThrow().ipv4());
            String rules = sh("ip", "netns", "exec", ns.pod, "nft", "list", "table", "ip", "urunc_" + second.tapName());
            assertFalse(rules.contains("socket"), "only the pod's first guest takes undeclared ports:\n" + rules);
            assertEquals(List.of(new GuestPort(8081, "tcp")), PodRules.declaredPorts(rules));

            UnikernelNetwork.detach(first);
            assertEquals("1", sysctl(ns.pod, "net/ipv4/conf/eth0/forwarding"), "the second guest still needs it");
            UnikernelNetwork.detachByContainerId(ns.podPath(), "pod-b");
            assertEquals("0", sysctl(ns.pod, "net/ipv4/conf/eth0/forwarding"));
            assertEquals(List.of(), tables(ns.pod));
        }
    }

    @Test
    void forwardingAlreadyOnIsLeftOn() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            sh("ip", "netns", "exec", ns.pod, "sysctl", "-qw", "net/ipv4/conf/eth0/forwarding=1");
            UnikernelNetwork.detach(UnikernelNetwork.attach(ns.podPath(), "pod-fwd", POD_HTTP));
            assertEquals("1", sysctl(ns.pod, "net/ipv4/conf/eth0/forwarding"));
        }
    }

    @Test
    void outsideAPodTheGuestStillTakesTheInterface() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "plain-1",
                    AttachOptions.defaults().withPrivateRange("169.254.100.0/24"));
            try {
                assertEquals(NetworkAttachment.REDIRECT, att.mode());
                assertEquals(List.of(), tables(ns.pod));
            } finally {
                UnikernelNetwork.detach(att);
            }
        }
    }

    private static List<String> tables(String netns) throws Exception {
        return sh("ip", "netns", "exec", netns, "nft", "list", "tables").lines()
                .map(l -> l.replace("table ip ", "").strip()).filter(l -> !l.isEmpty()).toList();
    }

    private static String sysctl(String netns, String key) throws Exception {
        return sh("ip", "netns", "exec", netns, "sysctl", "-n", key).strip();
    }

    private static List<String> addresses(String netns, String dev) throws Exception {
        return sh("ip", "-n", netns, "-o", "-4", "addr", "show", "dev", dev).lines()
                .map(l -> l.split("\\s+")[3]).toList();
    }

    private static boolean ping(Path fromNetns, String ip) throws Exception {
        return NetnsExecutor.callIn(fromNetns, () -> run("busybox", "ping", "-c", "2", "-W", "2", ip).exit() == 0);
    }

    private static void awaitCarrier(String netns, String tap) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (sh("ip", "-n", netns, "-o", "link", "show", "dev", tap).contains("state UP")) return;
            Thread.sleep(20);
        }
        throw new AssertionError(tap + " never got carrier");
    }
}
