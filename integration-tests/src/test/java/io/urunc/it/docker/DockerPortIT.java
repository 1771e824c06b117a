package io.urunc.it.docker;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Dockerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Mounts;
import io.urunc.it.support.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A unikernel HTTP server reached through `docker run -p 127.0.0.1:PORT:80` (docker-proxy, bridge, tap). */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerPortIT {
    @Parameter
    Stack stack;
    private Containerd containerd;
    private Dockerd dockerd;
    private DockerChecks checks;

    @BeforeParameterizedClassInvocation
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // may build the guests first
    void startDocker() throws Exception {
        assumeTrue(Dockerd.available(), "needs root and docker.io");
        containerd = Containerd.start(stack);
        dockerd = Dockerd.start(containerd);
        dockerd.loadImages("httpd");
        checks = new DockerChecks(containerd, dockerd);
    }

    @AfterParameterizedClassInvocation
    void stopDocker() {
        if (dockerd != null) dockerd.close();
        if (containerd != null) containerd.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void publishedPortReachesTheGuestHttpServer() throws Exception {
        int port = freeLocalPort();
        String id = dockerd.docker("run", "-d", "--runtime", Dockerd.RUNTIME, "-p", "127.0.0.1:" + port + ":80", Guests.HTTPD)
                .ok().stdout().strip();
        Path netns = Path.of(dockerd.docker("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", id).ok().stdout().strip());

        String body = getWithRetries(URI.create("http://127.0.0.1:" + port + "/"), Duration.ofSeconds(60), id);
        assertTrue(body.contains("URUNC-HTTPD-OK"), body);
        String links = Exec.run(Duration.ofSeconds(10), Map.of(), "nsenter", "--net=" + netns, "ip", "-o", "link").ok().stdout();
        String tap = links.lines().map(l -> l.split(":\\s+")[1].split("@")[0]).filter(n -> n.startsWith("urt")).findFirst()
                .orElseThrow(() -> new AssertionError("no urt* tap in the container's netns: " + links));

        dockerd.docker("stop", "-t", "1", id).ok();
        dockerd.docker("rm", id).ok();
        assertTrue(Mounts.under(netns).isEmpty(), "the container's netns (and the tap in it) is gone: " + Mounts.under(netns));
        assertTrue(Exec.run(Duration.ofSeconds(10), Map.of(), "ip", "link", "show", tap).exit() != 0,
                "the tap " + tap + " did not end up in the host's netns");
        checks.assertNothingLeft();
        assertTrue(refusedOrClosed(port), "nothing listens on 127.0.0.1:" + port + " any more");
    }

    /**
     * The control: an ordinary runc container (busybox httpd) through the same dockerd, bridge and docker-proxy.
     * It shows the fixture's networking works without iptables, so a failure above is the unikernel's path.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void publishedPortReachesAnOrdinaryRuncContainer() throws Exception {
        Path ctx = dockerd.dir().resolve("busybox-ctx");
        Files.createDirectories(ctx.resolve("www"));
        Files.copy(Path.of("/bin/busybox"), ctx.resolve("busybox"));
        Files.writeString(ctx.resolve("www/index.html"), "RUNC-HTTPD-OK\n");
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM scratch
                COPY busybox /bin/busybox
                COPY www /www
                ENTRYPOINT ["/bin/busybox"]
                """);
        Map<String, String> env = new HashMap<>(dockerd.env());
        env.put("DOCKER_BUILDKIT", "0");
        Exec.run(Duration.ofSeconds(60), env, containerd.stack().docker(), "build", "-q", "-t", "urunc.test/busybox:latest", ctx.toString()).ok();
        int port = freeLocalPort();
        String id = dockerd.docker("run", "-d", "-p", "127.0.0.1:" + port + ":80", "urunc.test/busybox:latest",
                "httpd", "-f", "-p", "80", "-h", "/www").ok().stdout().strip();
        String body = getWithRetries(URI.create("http://127.0.0.1:" + port + "/"), Duration.ofSeconds(20), id);
        assertTrue(body.contains("RUNC-HTTPD-OK"), body);
        dockerd.docker("rm", "-f", id).ok();
        checks.assertNothingLeft();
    }

    /** GETs the URL until it answers 200 (the Linux guest needs a few seconds to boot under TCG). */
    private String getWithRetries(URI uri, Duration budget, String id) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(3)).GET().build();
        long deadline = System.nanoTime() + budget.toNanos();
        String last = "no attempt";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return r.body();
                last = "HTTP " + r.statusCode() + ": " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        return fail("GET " + uri + " did not answer 200 in " + budget + " (last: " + last + ")\n--- guest console\n"
                + dockerd.docker(Duration.ofSeconds(10), "logs", id).stdout().lines()
                        .filter(l -> !l.startsWith("[")).reduce("", (a, b) -> a + b + "\n")
                + "--- network\n" + networkDiagnostics(id) + checks.diagnostics());
    }

    /** Where the container's network stands: its netns (if docker made one) and the veths on the bridge. */
    private String networkDiagnostics(String id) {
        String key = dockerd.docker(Duration.ofSeconds(10), "inspect", "-f", "{{.NetworkSettings.SandboxKey}}", id).stdout().strip();
        Exec.Result inNetns = Exec.run(Duration.ofSeconds(10), Map.of(), "nsenter", "--net=" + key, "ip", "-o", "addr");
        Exec.Result veths = Exec.run(Duration.ofSeconds(10), Map.of(), "ip", "-o", "link", "show", "type", "veth");
        return "SandboxKey " + key + (Files.exists(Path.of(key)) ? "" : " (does not exist: docker's libnetwork-setkey prestart hook never ran)")
                + "\n" + inNetns.stdout() + inNetns.stderr()
                + "--- veths in the host netns (a pair with both ends here was never moved into the container)\n" + veths.stdout();
    }

    private static int freeLocalPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean refusedOrClosed(int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
