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

import java.net.InetSocketAddress;
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
 * The sidecar's own command probes, once a second, the node (an HTTP server of this test on the bridge's
 * gateway), the unikernel on {@code localhost:80} and on its pod-local address, and logs each round; it also
 * serves port 8012 itself, as Knative's queue-proxy does. Clients outside use the pod IP.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PodNetworkIT {
    @Parameter
    Stack stack;
    private static final Duration GUEST_LIMIT = Duration.ofSeconds(90);
    private static final String FIRST_GUEST = "169.254.100.2", SECOND_GUEST = "169.254.100.6";
    private Cri cri;
    private HttpServer node;

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
    }

    @AfterParameterizedClassInvocation
    void stop() {
        if (node != null) node.stop(0);
        if (cri != null) cri.close();
    }

    @Test
    void theSidecarKeepsItsEgressAndReachesTheUnikernelOnLocalhost() throws Exception {
        PodSandboxConfig pod = cri.podConfig("sidecar-pod");
        String podId = cri.runPod(pod, Cri.URUNC);
        try {
            String podIp = cri.podIp(podId);
            ContainerConfig sidecar = sidecar("http://127.0.0.1:80/", "http://" + FIRST_GUEST + "/");
            cri.startContainer(podId, pod, sidecar);
            Path log = Cri.logFile(pod, sidecar);
            awaitRound(log, r -> got(r, "node", "NODE-OK"), "the sidecar reaches the node before the guest runs");

            String httpd = cri.startContainer(podId, pod, Cri.containerConfig("httpd", Guests.HTTPD, List.of()));
            String body = Http.getWithin(GUEST_LIMIT, "http://" + podIp + "/", cri::diagnostics);
            assertTrue(body.contains("URUNC-HTTPD-OK"), "outside -> the unikernel on the pod IP: " + body);
            assertTrue(Http.getWithin(Duration.ofSeconds(10), "http://" + podIp + ":8012/", cri::diagnostics)
                    .contains("SIDECAR-OK"), "the port the sidecar listens on stays the sidecar's");
            awaitRound(log, r -> got(r, "node", "NODE-OK") && got(r, "a", "URUNC-HTTPD-OK")
                    && got(r, "b", "URUNC-HTTPD-OK"),
                    "one round: the node, the unikernel on localhost:80 and on " + FIRST_GUEST);
            assertEquals(ContainerState.CONTAINER_RUNNING, cri.status(httpd).getState());

            cri.removeContainer(httpd);
            assertPodNetnsClean(podId);
            awaitRound(log, r -> got(r, "node", "NODE-OK") && r.contains("a=[]"),
                    "with the unikernel gone the sidecar still reaches the node");
        } finally {
            cri.removePod(podId);
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
        String get = "busybox timeout 3 busybox wget -q -O- ";
        String script = "mkdir -p /www && echo SIDECAR-OK > /www/index.html && busybox httpd -p 8012 -h /www; i=0;"
                + " while true; do i=$((i+1));"
                + " n=$(" + get + "http://" + cri.gateway() + ":" + node.getAddress().getPort() + "/ 2>/dev/null);"
                + " x=$(" + get + a + " 2>/dev/null); y=$(" + get + b + " 2>/dev/null);"
                + " echo \"round $i node=[$n] a=[$x] b=[$y]\" | busybox tr -d '\\r' | busybox tr '\\n' ' '; echo;"
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
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        List<String> left = cri.leftovers();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(250);
            left = cri.leftovers();
        }
        assertTrue(left.isEmpty(), "left behind after the pod was removed: " + String.join("\n", left));
    }
}
