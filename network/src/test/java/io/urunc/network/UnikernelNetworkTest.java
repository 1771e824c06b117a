package io.urunc.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.urunc.network.TestNetns.run;
import static io.urunc.network.TestNetns.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnikernelNetworkTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void redirectTakesOverTheInterfaceAndDetachRemovesEverything() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-redirect-1");

            assertEquals("redirect", att.mode());
            assertEquals(TapNames.tapFor("ctr-redirect-1"), att.tapName());
            assertTrue(att.tapName().length() <= 15);
            GuestNetworkConfig g = att.guest().orElseThrow();
            assertEquals("10.77.0.2", g.ipv4());
            assertEquals(24, g.prefixLength());
            assertEquals("10.77.0.1", g.gateway());
            assertEquals("02:00:00:00:77:02", g.mac());
            assertEquals(1400, g.mtu());
            assertEquals("255.255.255.0", g.netmask());

            JsonNode tap = link(ns.pod, att.tapName());
            assertEquals("tap", tap.path("linkinfo").path("info_data").path("type").asText());
            assertTrue(tap.path("linkinfo").path("info_data").path("persist").asBoolean());
            assertTrue(tap.path("linkinfo").path("info_data").path("vnet_hdr").asBoolean());
            assertEquals(1400, tap.path("mtu").asInt());
            assertEquals(List.of(att.tapName()), redirectTargets(ns.pod, "eth0"));
            assertEquals(List.of("eth0"), redirectTargets(ns.pod, att.tapName()));
            assertTrue(hasIngressQdisc(ns.pod, "eth0"));

            UnikernelNetwork.detach(att);

            assertFalse(linkExists(ns.pod, att.tapName()));
            assertFalse(hasIngressQdisc(ns.pod, "eth0"));
            assertEquals(List.of(), redirectTargets(ns.pod, "eth0"));
            UnikernelNetwork.detach(att); // idempotent
        }
    }

    /** A name tc's batch reader would take apart ('#' starts its comments): still the tap's redirect target. */
    @Test
    void anUplinkNamedWithCharactersTcBatchReadsItsOwnWayIsRedirectedToo() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            TestNetns.sh("ip", "-n", ns.pod, "link", "set", "eth0", "down");
            TestNetns.sh("ip", "-n", ns.pod, "link", "set", "eth0", "name", "up#l'k");
            TestNetns.sh("ip", "-n", ns.pod, "link", "set", "up#l'k", "up");
            TestNetns.sh("ip", "-n", ns.pod, "route", "add", "default", "via", "10.77.0.1");
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-odd-uplink");
            assertEquals("redirect", att.mode());
            assertEquals(List.of("up#l'k"), redirectTargets(ns.pod, att.tapName()));
            assertEquals(List.of(att.tapName()), redirectTargets(ns.pod, "up#l'k"));
            UnikernelNetwork.detach(att);
            assertFalse(linkExists(ns.pod, att.tapName()));
            assertEquals(List.of(), redirectTargets(ns.pod, "up#l'k"));
        }
    }

    @Test
    void pingFromOutsideReachesTheGuestOnTheTapAndOnlyTheGuestAnswers() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            assertTrue(ping(ns.hostPath(), "10.77.0.2"), "the container's own stack answers before attach");
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-ping");
            try {
                GuestNetworkConfig g = att.guest().orElseThrow();
                sh("ip", "-n", ns.host, "neigh", "flush", "all");
                assertFalse(pingOnce(ns.hostPath(), g.ipv4()), "with no guest on the tap nobody may answer");

                try (TapResponder guest = TapResponder.start(ns.podPath(), att.tapName(), g.ipv4(), g.mac())) {
                    awaitCarrier(ns.pod, att.tapName());
                    sh("ip", "-n", ns.host, "neigh", "flush", "all");
                    assertTrue(ping(ns.hostPath(), g.ipv4()), "the guest on the tap answers the ping; frames seen "
                            + guest.framesSeen.get());
                    assertTrue(guest.echoReplies.get() >= 1);
                    String neigh = sh("ip", "-n", ns.host, "neigh", "show", g.ipv4());
                    assertTrue(neigh.contains(g.mac()), "the host sees the guest with the container's MAC: " + neigh);
                }
            } finally {
                UnikernelNetwork.detach(att);
            }
            assertTrue(ping(ns.hostPath(), "10.77.0.2"), "after detach the container's stack answers again");
        }
    }

    @Test
    void aSecondVmInTheSameNamespaceGetsAPrivateSubnetReachableFromThePod() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            NetworkAttachment first = UnikernelNetwork.attach(ns.podPath(), "ctr-a");
            NetworkAttachment second = UnikernelNetwork.attach(ns.podPath(), "ctr-b");
            NetworkAttachment third = UnikernelNetwork.attach(ns.podPath(), "ctr-c");
            try {
                assertEquals("redirect", first.mode());
                assertEquals("private", second.mode());
                assertEquals("private", third.mode());
                assertEquals(3, List.of(first.tapName(), second.tapName(), third.tapName()).stream().distinct().count());
                GuestNetworkConfig b = second.guest().orElseThrow();
                GuestNetworkConfig c = third.guest().orElseThrow();
                assertEquals("169.254.100.2", b.ipv4());
                assertEquals("169.254.100.1", b.gateway());
                assertEquals(30, b.prefixLength());
                assertEquals("169.254.100.6", c.ipv4());
                assertNotEquals(b.mac(), c.mac());
                assertEquals(1400, b.mtu());
                assertEquals(List.of(first.tapName()), redirectTargets(ns.pod, "eth0"), "the redirect is untouched");

                try (TapResponder guest = TapResponder.start(ns.podPath(), second.tapName(), b.ipv4(), b.mac())) {
                    awaitCarrier(ns.pod, second.tapName());
                    assertTrue(ping(ns.podPath(), b.ipv4()), "a process of the pod reaches the private guest");
                }
            } finally {
                UnikernelNetwork.detach(second);
                UnikernelNetwork.detach(first);
                UnikernelNetwork.detach(third);
            }
            for (NetworkAttachment a : List.of(first, second, third)) assertFalse(linkExists(ns.pod, a.tapName()));
            assertFalse(hasIngressQdisc(ns.pod, "eth0"));
            assertEquals(List.of("10.77.0.2/24"), ipv4Addresses(ns.pod));
        }
    }

    @Test
    void namespaceWithOnlyLoopbackGivesAVmWithoutNic() throws Exception {
        try (TestNetns ns = TestNetns.loopbackOnly()) {
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-none");
            assertEquals("none", att.mode());
            assertTrue(att.guest().isEmpty());
            assertFalse(att.hasTap());
            assertEquals(List.of("lo"), linkNames(ns.pod));
            UnikernelNetwork.detach(att);
        }
    }

    @Test
    void detachStillRemovesTheTapWhenTheContainersInterfaceIsAlreadyGone() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-cni-del-first");
            sh("ip", "-n", ns.pod, "link", "del", "eth0");
            UnikernelNetwork.detach(att);
            assertEquals(List.of("lo"), linkNames(ns.pod));
        }
    }

    @Test
    void cleanupByContainerIdRemovesOnlyThatContainersObjects() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            NetworkAttachment a = UnikernelNetwork.attach(ns.podPath(), "ctr-lost-record");
            NetworkAttachment b = UnikernelNetwork.attach(ns.podPath(), "ctr-other");
            sh("ip", "-n", ns.pod, "tuntap", "add", "dev", "tap0_urunc", "mode", "tap"); // someone else's tap

            UnikernelNetwork.detachByContainerId(ns.podPath(), "ctr-unknown");
            assertEquals(List.of("lo", "eth0", a.tapName(), b.tapName(), "tap0_urunc"), linkNames(ns.pod));

            UnikernelNetwork.detachByContainerId(ns.podPath(), "ctr-lost-record");
            assertEquals(List.of("lo", "eth0", b.tapName(), "tap0_urunc"), linkNames(ns.pod));
            assertFalse(hasIngressQdisc(ns.pod, "eth0"));
            assertEquals(List.of("ctr-other"), UnikernelNetwork.attachedContainerIds(ns.podPath()));

            UnikernelNetwork.detachByContainerId(ns.podPath(), "ctr-other");
            assertEquals(List.of("lo", "eth0", "tap0_urunc"), linkNames(ns.pod));
        }
    }

    @Test
    void attachingAgainAfterAShimCrashReclaimsTheContainersOwnLeftoverTap() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            NetworkAttachment lost = UnikernelNetwork.attach(ns.podPath(), "ctr-restart");
            NetworkAttachment again = UnikernelNetwork.attach(ns.podPath(), "ctr-restart");
            assertEquals("redirect", again.mode(), "the leftover of the same container does not block the interface");
            assertEquals(lost.tapName(), again.tapName());
            assertEquals(List.of(again.tapName()), redirectTargets(ns.pod, "eth0"));
            UnikernelNetwork.detach(again);
            assertFalse(linkExists(ns.pod, again.tapName()));
        }
    }

    @Test
    void failureHalfwayUndoesWhatWasDoneAndKeepsForeignRules() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            // a foreign ingress qdisc with an IP-only filter at our preference makes the last step fail
            sh("tc", "-n", ns.pod, "qdisc", "add", "dev", "eth0", "ingress");
            sh("tc", "-n", ns.pod, "filter", "add", "dev", "eth0", "parent", "ffff:", "protocol", "ip", "pref",
                    Integer.toString(UnikernelNetwork.FILTER_PREF), "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "mirror", "dev", "lo");

            NetworkException e = assertThrows(NetworkException.class,
                    () -> UnikernelNetwork.attach(ns.podPath(), "ctr-fail"));
            assertTrue(e.getMessage().contains("tc filter add dev eth0"), e.getMessage());

            assertFalse(linkExists(ns.pod, TapNames.tapFor("ctr-fail")), "the tap was removed again");
            assertTrue(hasIngressQdisc(ns.pod, "eth0"), "the foreign qdisc stays");
            assertEquals(1, JSON.readTree(sh("tc", "-n", ns.pod, "-j", "filter", "show", "dev", "eth0", "parent",
                    "ffff:")).findValues("actions").size(), "the foreign filter stays");
        }
    }

    /** The optimistic tc batch fails on the uplink's qdisc line; the careful path names the clsact and undoes the tap. */
    @Test
    void anUplinkWithAClsactQdiscIsRefusedAndTheAttachLeavesNothing() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            sh("tc", "-n", ns.pod, "qdisc", "add", "dev", "eth0", "clsact");
            NetworkException e = assertThrows(NetworkException.class, () -> UnikernelNetwork.attach(ns.podPath(), "ctr-clsact"));
            assertTrue(e.getMessage().contains("eth0") && e.getMessage().contains("clsact"), e.getMessage());
            assertEquals(List.of("lo", "eth0"), linkNames(ns.pod), "the tap was removed again");
            assertEquals(List.of("clsact"), ingressQdiscKinds(ns.pod, "eth0"), "the foreign qdisc stays, alone");
            assertEquals(List.of(), redirectTargets(ns.pod, "eth0"));
        }
    }

    @Test
    void someoneElsesIngressQdiscOnTheUplinkIsUsedAndKeptAfterDetach() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            sh("tc", "-n", ns.pod, "qdisc", "add", "dev", "eth0", "ingress");
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-foreign-qdisc");
            assertEquals("redirect", att.mode());
            assertEquals(List.of(att.tapName()), redirectTargets(ns.pod, "eth0"));
            assertEquals("urunc:redirect:eth0:0:ctr-foreign-qdisc", link(ns.pod, att.tapName()).path("ifalias").asText(),
                    "the mark does not claim the qdisc");
            UnikernelNetwork.detach(att);
            assertFalse(linkExists(ns.pod, att.tapName()));
            assertEquals(List.of("ingress"), ingressQdiscKinds(ns.pod, "eth0"), "the foreign qdisc stays");
            assertEquals(List.of(), redirectTargets(ns.pod, "eth0"));
        }
    }

    /** Attach added the qdisc, but someone has filtered on it since: detach takes only its own filter away. */
    @Test
    void detachKeepsTheUplinksQdiscWhileAnotherFilterUsesIt() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-shared-qdisc");
            sh("tc", "-n", ns.pod, "filter", "add", "dev", "eth0", "parent", "ffff:", "protocol", "ip", "pref", "7",
                    "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "mirror", "dev", "lo");
            UnikernelNetwork.detach(att);
            assertFalse(linkExists(ns.pod, att.tapName()));
            assertEquals(List.of("ingress"), ingressQdiscKinds(ns.pod, "eth0"));
            JsonNode filters = JSON.readTree(sh("tc", "-n", ns.pod, "-j", "filter", "show", "dev", "eth0", "parent", "ffff:"));
            for (JsonNode f : filters) assertEquals(7, f.path("pref").asInt(), "only the other filter is left: " + filters);
            assertFalse(filters.isEmpty());
        }
    }

    /** The tap's ip batch and the tc batch run in one exec; a tc line failing half-way names itself and undoes the tap. */
    @Test
    void aBatchFailingHalfWayInOneExecNamesItsLineAndWhatToUndo() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            Commands commands = Commands.in(ns.podPath());
            Batch ip = new Batch("ip").addUndoable(List.of("ip", "link", "del", "dev", "urjt-tap0"),
                    "tuntap", "add", "dev", "urjt-tap0", "mode", "tap").add("link", "set", "dev", "urjt-tap0", "up");
            Batch tc = new Batch("tc").addUndoable(List.of("tc", "qdisc", "del", "dev", "urjt-tap0", "ingress"),
                            "qdisc", "add", "dev", "urjt-tap0", "ingress")
                    .add("qdisc", "add", "dev", "no-such-dev", "ingress")
                    .add("qdisc", "add", "dev", "eth0", "ingress");
            Batch.Failed f = assertThrows(Batch.Failed.class, () -> commands.run(List.of(ip, tc)));
            assertEquals(1, commands.started(), "one exec for both batches");
            assertEquals(tc, f.batch());
            assertEquals(1, f.line());
            assertTrue(f.getMessage().contains("'tc qdisc add dev no-such-dev ingress'"), f.getMessage());
            assertFalse(f.getMessage().contains("Command failed") || f.getMessage().contains("urunc: failed batch"), f.getMessage());
            assertEquals(List.of(), ingressQdiscKinds(ns.pod, "eth0"), "the line after the failed one did not run");
            assertEquals(List.of(List.of("tc", "qdisc", "del", "dev", "urjt-tap0", "ingress"),
                    List.of("ip", "link", "del", "dev", "urjt-tap0")), f.undos());
            for (List<String> undo : f.undos()) assertTrue(commands.tryRun(undo.toArray(String[]::new)).ok(), undo.toString());
            assertEquals(List.of("lo", "eth0"), linkNames(ns.pod));
        }
    }

    @Test
    void guestDnsReplacesDockersEmbeddedResolver() throws Exception {
        Path dir = Files.createTempDirectory("urjt-dns");
        try (TestNetns ns = TestNetns.withVeth()) {
            Path docker = Files.writeString(dir.resolve("container.conf"),
                    "nameserver 127.0.0.11\noptions ndots:0\n");
            Path host = Files.writeString(dir.resolve("host.conf"), "nameserver 127.0.0.53\nnameserver 192.0.2.53\n");
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-dns",
                    AttachOptions.defaults().withResolvConf(docker).withHostResolvConfs(List.of(host)));
            try {
                assertEquals(List.of("192.0.2.53"), att.guest().orElseThrow().dns());
            } finally {
                UnikernelNetwork.detach(att);
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.delete(p);
            }
            Files.delete(dir);
        }
    }

    @Test
    void qemuStartedInsideTheNamespaceOpensTheTapByNameAndTheTapOutlivesIt() throws Exception {
        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        Assumptions.assumeTrue(Files.isExecutable(qemu), "QEMU not installed");
        try (TestNetns ns = TestNetns.withVeth()) {
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-qemu");
            try {
                GuestNetworkConfig g = att.guest().orElseThrow();
                Process vm = NetnsExecutor.callIn(ns.podPath(), () -> new ProcessBuilder(qemu.toString(),
                        "-M", "pc", "-accel", "tcg", "-nodefaults", "-display", "none", "-S", "-m", "32",
                        "-netdev", "tap,id=n0,ifname=" + att.tapName() + ",script=no,downscript=no,vhost=off",
                        "-device", "virtio-net-pci,netdev=n0,mac=" + g.mac())
                        .redirectErrorStream(true).start());
                try {
                    boolean carrier = false;
                    for (int i = 0; i < 100 && !carrier && vm.isAlive(); i++) {
                        carrier = flags(ns.pod, att.tapName()).contains("LOWER_UP");
                        if (!carrier) Thread.sleep(50);
                    }
                    assertTrue(carrier, "QEMU attached to the tap: " + (vm.isAlive() ? "" :
                            new String(vm.getInputStream().readAllBytes())));
                } finally {
                    vm.destroyForcibly();
                    vm.waitFor();
                }
                assertTrue(linkExists(ns.pod, att.tapName()), "the persistent tap survives the VMM");
                assertFalse(flags(ns.pod, att.tapName()).contains("LOWER_UP"));
            } finally {
                UnikernelNetwork.detach(att);
            }
            assertFalse(linkExists(ns.pod, att.tapName()));
        }
    }

    @Test
    void tapOwnerLetsANonRootVmmOpenIt() throws Exception {
        try (TestNetns ns = TestNetns.withVeth()) {
            NetworkAttachment att = UnikernelNetwork.attach(ns.podPath(), "ctr-owner",
                    AttachOptions.defaults().withTapOwner(4242, 4343));
            try {
                JsonNode data = link(ns.pod, att.tapName()).path("linkinfo").path("info_data");
                assertEquals("4242", data.path("user").asText());
                assertEquals("4343", data.path("group").asText());
            } finally {
                UnikernelNetwork.detach(att);
            }
        }
    }

    @Test
    void badInputIsRefusedWithAClearMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UnikernelNetwork.attach(Path.of("/proc/self/ns/net"), "bad id"));
        assertTrue(e.getMessage().contains("whitespace"), e.getMessage());
        NetworkException missing = assertThrows(NetworkException.class,
                () -> UnikernelNetwork.attach(Path.of("/var/run/netns/urjt-missing"), "x"));
        assertTrue(missing.getMessage().contains("urjt-missing"), missing.getMessage());
    }

    // --- helpers: observe the namespace with the real tools, independent of the code under test

    private static boolean ping(Path fromNetns, String ip) throws Exception {
        return NetnsExecutor.callIn(fromNetns, () -> run("busybox", "ping", "-c", "2", "-W", "2", ip).exit() == 0);
    }

    private static boolean pingOnce(Path fromNetns, String ip) throws Exception {
        return NetnsExecutor.callIn(fromNetns, () -> run("busybox", "ping", "-c", "1", "-W", "1", ip).exit() == 0);
    }

    /** Like a VMM booting: the tap is only usable once the kernel has processed its carrier change. */
    private static void awaitCarrier(String netns, String tap) throws Exception {
        for (int i = 0; i < 100; i++) {
            JsonNode l = link(netns, tap);
            if (l.path("operstate").asText().equals("UP")) return;
            Thread.sleep(20);
        }
        throw new AssertionError(tap + " never got carrier");
    }

    private static List<String> flags(String netns, String name) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode f : link(netns, name).path("flags")) out.add(f.asText());
        return out;
    }

    private static JsonNode link(String netns, String name) throws Exception {
        return JSON.readTree(sh("ip", "-n", netns, "-j", "-d", "link", "show", "dev", name)).get(0);
    }

    private static boolean linkExists(String netns, String name) throws Exception {
        return linkNames(netns).contains(name);
    }

    private static List<String> linkNames(String netns) throws Exception {
        List<String> names = new ArrayList<>();
        for (JsonNode l : JSON.readTree(sh("ip", "-n", netns, "-j", "link", "show"))) names.add(l.path("ifname").asText());
        return names;
    }

    private static List<String> ipv4Addresses(String netns) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode l : JSON.readTree(sh("ip", "-n", netns, "-j", "-4", "addr", "show"))) {
            for (JsonNode a : l.path("addr_info")) {
                if (!a.path("local").asText().startsWith("127.")) {
                    out.add(a.path("local").asText() + "/" + a.path("prefixlen").asInt());
                }
            }
        }
        return out;
    }

    private static List<String> ingressQdiscKinds(String netns, String dev) throws Exception {
        List<String> kinds = new ArrayList<>();
        for (JsonNode q : JSON.readTree(sh("tc", "-n", netns, "-j", "qdisc", "show", "dev", dev))) {
            String kind = q.path("kind").asText();
            if (kind.equals("ingress") || kind.equals("clsact")) kinds.add(kind);
        }
        return kinds;
    }

    private static boolean hasIngressQdisc(String netns, String dev) throws Exception {
        for (JsonNode q : JSON.readTree(sh("tc", "-n", netns, "-j", "qdisc", "show", "dev", dev))) {
            if (q.path("kind").asText().equals("ingress")) return true;
        }
        return false;
    }

    private static List<String> redirectTargets(String netns, String dev) throws Exception {
        List<String> out = new ArrayList<>();
        JsonNode filters = JSON.readTree(sh("tc", "-n", netns, "-j", "filter", "show", "dev", dev, "parent", "ffff:"));
        for (JsonNode f : filters) {
            for (JsonNode a : f.path("options").path("actions")) {
                if (a.path("mirred_action").asText().equals("redirect")) out.add(a.path("to_dev").asText());
            }
        }
        return out;
    }
}
