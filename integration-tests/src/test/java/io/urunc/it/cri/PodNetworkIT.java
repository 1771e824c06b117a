package io.urunc.it.cri;

import com.sun.net.httpserver.HttpServer;
import io.urunc.it.cri.api.ContainerConfig;
import io.urunc.it.cri.api.ContainerState;
import io.urunc.it.cri.api.PodSandboxConfig;
import io.urunc.it.support.Cri;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Http;
import io.urunc.it.support.PlainImages;
import io.urunc.it.support.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A urunc pod as Kubernetes runs them: the HTTP unikernel beside a runc busybox sidecar, on a real CNI bridge.
 * The sidecar's own command (exec is not used) probes, once a second, the node (an HTTP server and a DNS server of
 * this test, reached on the bridge's gateway), another pod, the unikernel on {@code localhost:80} and on its
 * pod-local address, and logs each round; it also serves port 8012 itself, as Knative's queue-proxy does. Clients
 * outside use the pod IP.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PodNetworkIT {
    @Parameter
    Stack stack;
    private static final Duration GUEST_LIMIT = Duration.ofSeconds(90);
    private static final String FIRST_GUEST = "169.254.100.2", SECOND_GUEST = "169.254.100.6";
    private static final String DNS_ANSWER = "10.9.8.7";
    private Cri cri;
    private HttpServer node;
    private DatagramSocket dns;

    @BeforeParameterizedClassInvocation
    void start() throws Exception {
        cri = Cri.start(stack);
        cri.importGuests("httpd");
        // the bridge (and its gateway address) only exists once CNI set up a pod: listen on every address
        node = HttpServer.create(new InetSocketAddress(0), 0);
        node.createContext("/", exchange -> {
            byte[] body = "NODE-OK".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        node.start();
        dns = new DatagramSocket(0);
        Thread.ofPlatform().daemon().name("node-dns").start(this::answerDns);
    }

    /** The node's DNS server: every query gets one A record, {@value #DNS_ANSWER}. */
    private void answerDns() {
        byte[] buf = new byte[512];
        while (!dns.isClosed()) {
            try {
                DatagramPacket q = new DatagramPacket(buf, buf.length);
                dns.receive(q);
                int end = 12;
                while (end < q.getLength() && buf[end] != 0) end += (buf[end] & 0xff) + 1;
                end += 5; // the name's terminating zero, QTYPE, QCLASS
                ByteBuffer r = ByteBuffer.allocate(end + 16);
                r.put(buf, 0, end);
                r.put(2, (byte) 0x81).put(3, (byte) 0x80).putShort(6, (short) 1); // response, recursion; one answer
                r.position(end);
                r.putShort((short) 0xc00c).putShort((short) 1).putShort((short) 1).putInt(60).putShort((short) 4);
                for (String octet : DNS_ANSWER.split("\\.")) r.put((byte) Integer.parseInt(octet));
                dns.send(new DatagramPacket(r.array(), r.position(), q.getSocketAddress()));
            } catch (Exception e) {
                if (!dns.isClosed()) System.err.println("node DNS: " + e);
            }
        }
    }

    @AfterParameterizedClassInvocation
    void stop() {
        if (node != null) node.stop(0);
        if (dns != null) dns.close();
        if (cri != null) cri.close();
    }

    @Test
    void theSidecarKeepsItsEgressAndReachesTheUnikernelOnLocalhost() throws Exception {
        PodSandboxConfig otherPod = cri.podConfig("other-pod");
        String otherId = cri.runPod(otherPod, Cri.RUNC);
        PodSandboxConfig pod = cri.podConfig("sidecar-pod");
        String podId = null;
        try {
            cri.startContainer(otherId, otherPod, Cri.containerConfig("web", PlainImages.BUSYBOX, List.of("/bin/busybox",
                    "sh", "-c", "mkdir -p /www && echo OTHER-POD-OK > /www/index.html && exec busybox httpd -f -p 80 -h /www")));
            podId = cri.runPod(pod, Cri.URUNC);
            String podIp = cri.podIp(podId);
            String forwarding = forwarding(podId);
            ContainerConfig sidecar = sidecar("http://127.0.0.1:80/", "http://" + FIRST_GUEST + "/",
                    "http://" + cri.podIp(otherId) + "/");
            cri.startContainer(podId, pod, sidecar);
            Path log = Cri.logFile(pod, sidecar);
            awaitRound(log, r -> got(r, "node", "NODE-OK") && got(r, "c", "OTHER-POD-OK") && got(r, "dns", DNS_ANSWER),
                    "before the guest runs the sidecar reaches the node, another pod and the node's DNS");

            String httpd = cri.startContainer(podId, pod, Cri.containerConfig("httpd", Guests.HTTPD, List.of()));
            String body = Http.getWithin(GUEST_LIMIT, "http://" + podIp + "/", cri::diagnostics);
            assertTrue(body.contains("URUNC-HTTPD-OK"), "outside -> the unikernel on the pod IP: " + body);
            assertTrue(Http.getWithin(Duration.ofSeconds(10), "http://" + podIp + ":8012/", cri::diagnostics)
                    .contains("SIDECAR-OK"), "the port the sidecar listens on stays the sidecar's");
            awaitRound(log, r -> got(r, "node", "NODE-OK") && got(r, "a", "URUNC-HTTPD-OK")
                    && got(r, "b", "URUNC-HTTPD-OK") && got(r, "c", "OTHER-POD-OK") && got(r, "dns", DNS_ANSWER),
                    "one round: the node, another pod, DNS, the unikernel on localhost:80 and on " + FIRST_GUEST);
            assertEquals(ContainerState.CONTAINER_RUNNING, cri.status(httpd).getState());

            assertEquals("1", forwarding(podId), "the pod's interface forwards while the unikernel runs");
            cri.removeContainer(httpd);
            assertPodNetnsClean(podId);
            assertEquals(forwarding, forwarding(podId), "forwarding on the pod's interface is as it was");
            awaitRound(log, r -> got(r, "node", "NODE-OK") && r.contains("a=[]"),
                    "with the unikernel gone the sidecar still reaches the node");
        } finally {
            if (podId != null) cri.removePod(podId);
            cri.removePod(otherId);
        }
        assertNothingLeft();
    }

    @Test
    void twoUnikernelsAndASidecarShareOnePod() throws Exception {
        PodSandboxConfig pod = cri.podConfig("two-guests-pod");
        String podId = cri.runPod(pod, Cri.URUNC);
        try {
            String podIp = cri.podIp(podId);
            ContainerConfig sidecar = sidecar("http://127.0.0.1:80/", "http://127.0.0.1:8081/");
            cri.startContainer(podId, pod, sidecar);
            String first = cri.startContainer(podId, pod, Cri.containerConfig("httpd", Guests.HTTPD, List.of()));
            assertTrue(Http.getWithin(GUEST_LIMIT, "http://" + podIp + "/", cri::diagnostics).contains("URUNC-HTTPD-OK"));
            // the same image on another port: its ports come from a container annotation, which wins over the label
            ContainerConfig second = Cri.containerConfig("httpd2", Guests.HTTPD,
                    List.of("/init", "/bin/busybox", "httpd", "-f", "-p", "8081", "-h", "/www")).toBuilder()
                    .putAnnotations("com.urunc.unikernel.ports", "8081").build();
            String secondId = cri.startContainer(podId, pod, second);
            assertTrue(Http.getWithin(GUEST_LIMIT, "http://" + podIp + ":8081/", cri::diagnostics)
                    .contains("URUNC-HTTPD-OK"), "outside -> the second unikernel on its declared port");
            awaitRound(Cri.logFile(pod, sidecar), r -> got(r, "node", "NODE-OK") && got(r, "a", "URUNC-HTTPD-OK")
                    && got(r, "b", "URUNC-HTTPD-OK"), "the sidecar reaches both unikernels on localhost and the node");
            String tables = cri.inPodNetns(podId, "nft", "list", "tables").stdout();
            assertEquals(2, tables.lines().filter(l -> l.contains("urunc_urt")).count(), tables);
            assertTrue(cri.inPodNetns(podId, "ip", "-o", "-4", "addr").stdout().contains(SECOND_GUEST.replace(".6", ".5")),
                    "the second guest got the next /30");
            assertEquals(ContainerState.CONTAINER_RUNNING, cri.status(first).getState());
            assertEquals(ContainerState.CONTAINER_RUNNING, cri.status(secondId).getState());
        } finally {
            cri.removePod(podId);
        }
        assertNothingLeft();
    }

    /**
     * The sidecar: serves 8012, then every second logs {@code round N node=[…] a=[…] b=[…]} with the bodies
     * of the node's server and of URLs a and b (empty when unreachable). busybox wget is bounded by timeout(1):
     * its own -T crashes in Debian 12's static busybox.
     */
    private ContainerConfig sidecar(String a, String b) {
        return sidecar(a, b, "http://127.0.0.1:1/");
    }

    /** As {@link #sidecar(String, String)}, also probing {@code c} and a name on the node's DNS server ({@code dns=}). */
    private ContainerConfig sidecar(String a, String b, String c) {
        String get = "busybox timeout 3 busybox wget -q -O- ";
        String script = "mkdir -p /www && echo SIDECAR-OK > /www/index.html && busybox httpd -p 8012 -h /www; i=0;"
                + " while true; do i=$((i+1));"
                + " n=$(" + get + "http://" + cri.gateway() + ":" + node.getAddress().getPort() + "/ 2>/dev/null);"
                + " x=$(" + get + a + " 2>/dev/null); y=$(" + get + b + " 2>/dev/null); z=$(" + get + c + " 2>/dev/null);"
                + " d=$(busybox timeout 3 busybox nslookup -port=" + dns.getLocalPort() + " app.test " + cri.gateway()
                + " 2>/dev/null | busybox grep -o 'Address: [0-9.]*$' | busybox tail -1);"
                + " echo \"round $i node=[$n] a=[$x] b=[$y] c=[$z] dns=[$d]\" | busybox tr -d '\\r' | busybox tr '\\n' ' '; echo;"
                + " busybox sleep 1; done";
        return Cri.containerConfig("sidecar", PlainImages.BUSYBOX, List.of("/bin/busybox", "sh", "-c", script));
    }

    /** Whether the round's probe {@code name} got a body containing {@code marker}. */
    private static boolean got(String round, String name, String marker) {
        int start = round.indexOf(" " + name + "=[");
        if (start < 0) return false;
        int end = round.indexOf(']', start);
        return end > 0 && round.substring(start, end).contains(marker);
    }

    /** Waits for a round of the sidecar's log, written after this call, that satisfies {@code ok}. */
    private void awaitRound(Path log, Predicate<String> ok, String what) throws Exception {
        long seen = Files.exists(log) ? Files.readAllLines(log).size() : 0;
        long deadline = System.nanoTime() + GUEST_LIMIT.toNanos();
        List<String> lines = List.of();
        while (System.nanoTime() < deadline) {
            lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            Optional<String> hit = lines.stream().skip(seen).filter(l -> l.contains("round ")).filter(ok).findFirst();
            if (hit.isPresent()) return;
            Thread.sleep(250);
        }
        fail(what + ": no such round in " + log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 8),
                lines.size())) + "\n" + cri.diagnostics());
    }

    private String forwarding(String podId) {
        return cri.inPodNetns(podId, "sysctl", "-n", "net/ipv4/conf/eth0/forwarding").ok().stdout().strip();
    }

    /** The shim's own cleanup, before CNI and CRI delete the namespace: no tap, no table, forwarding as it was. */
    private void assertPodNetnsClean(String podId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        String links, tables;
        do {
            links = cri.inPodNetns(podId, "ip", "-o", "link").stdout();
            tables = cri.inPodNetns(podId, "nft", "list", "tables").stdout();
            if (!links.contains("urt") && tables.isBlank()) break;
            Thread.sleep(250);
        } while (System.nanoTime() < deadline);
        assertFalse(links.contains("urt"), "the unikernel's tap is gone: " + links);
        assertTrue(tables.isBlank(), "its nftables table is gone: " + tables);
        String qdiscs = cri.inPodNetns(podId, "tc", "qdisc", "show").stdout();
        assertFalse(qdiscs.contains("ingress"), "no ingress qdisc anywhere: " + qdiscs);
    }

    private void assertNothingLeft() throws InterruptedException {
        List<String> left = cri.leftoversAfterRemoval();
        assertTrue(left.isEmpty(), "left behind after the pod was removed: " + String.join("\n", left));
    }
}
