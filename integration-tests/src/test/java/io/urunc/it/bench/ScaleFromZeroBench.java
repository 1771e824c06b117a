package io.urunc.it.bench;

import io.urunc.it.cri.api.ContainerConfig;
import io.urunc.it.cri.api.PodSandboxConfig;
import io.urunc.it.support.Containerd;
import io.urunc.it.support.Cri;
import io.urunc.it.support.Guests;
import io.urunc.it.support.PlainImages;
import io.urunc.it.support.Stack;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Knative's scale-from-zero, as the urunc evaluation measures it: RunPodSandbox → the first HTTP 200 carrying the
 * application's page, from the node, on the pod IP ("direct") and through a sidecar proxy that reaches the
 * application on localhost ("proxied", a busybox httpd CGI doing what queue-proxy does). The HTTP unikernel under
 * urunc against the same busybox httpd as a runc container, on both containerd versions; variants interleaved,
 * medians of {@code bench.runs} runs. Not part of the test suite (the name does not end in IT): run by
 * {@code bench/run-scale-from-zero.sh}; the table goes to stdout and {@code target/scale-from-zero.md}.
 */
class ScaleFromZeroBench {
    private static final String MARKER = "URUNC-HTTPD-OK";
    private static final Duration LIMIT = Duration.ofSeconds(120);
    private static final String PROXY = "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/html\\necho\\n"
            + "exec /bin/busybox wget -q -O- http://127.0.0.1:80/\\n' > /www/cgi-bin/p && chmod +x /www/cgi-bin/p"
            + " && exec /bin/busybox httpd -f -p 8012 -h /www";
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    enum Variant {
        URUNC_DIRECT(true, false), RUNC_DIRECT(false, false), URUNC_PROXIED(true, true), RUNC_PROXIED(false, true);
        final boolean urunc, proxied;

        Variant(boolean urunc, boolean proxied) {
            this.urunc = urunc;
            this.proxied = proxied;
        }
    }

    @Test
    void runPodSandboxToFirstHttp200() throws Exception {
        int runs = Integer.getInteger("bench.runs", 5);
        StringBuilder table = new StringBuilder("| containerd | path | urunc (HTTP unikernel) | runc (busybox httpd) | ratio |"
                + " urunc: sandbox / +containers started |\n|---|---|---|---|---|---|\n");
        for (Stack stack : Stack.values()) {
            Map<Variant, List<Long>> ms = new EnumMap<>(Variant.class);
            Map<Variant, List<Long>> sandbox = new EnumMap<>(Variant.class), started = new EnumMap<>(Variant.class);
            try (Cri cri = Cri.start(stack)) {
                cri.importGuests("httpd");
                for (Variant v : Variant.values()) once(cri, v, -1); // warm: images unpacked, daemon and caches up
                for (int i = 0; i < runs; i++) {
                    for (Variant v : Variant.values()) {
                        long[] t = once(cri, v, i);
                        ms.computeIfAbsent(v, k -> new ArrayList<>()).add(t[2]);
                        sandbox.computeIfAbsent(v, k -> new ArrayList<>()).add(t[0]);
                        started.computeIfAbsent(v, k -> new ArrayList<>()).add(t[1]);
                    }
                }
            }
            Map<String, Variant[]> rows = new LinkedHashMap<>();
            rows.put("pod IP", new Variant[] {Variant.URUNC_DIRECT, Variant.RUNC_DIRECT});
            rows.put("sidecar proxy → localhost", new Variant[] {Variant.URUNC_PROXIED, Variant.RUNC_PROXIED});
            rows.forEach((path, pair) -> {
                long u = median(ms.get(pair[0])), r = median(ms.get(pair[1]));
                table.append("| ").append((stack.containerd2() ? "2.1" : "1.6")).append(" | ").append(path).append(" | ").append(u)
                        .append(" ms | ").append(r).append(" ms | ").append(String.format("%.2f×", (double) u / r))
                        .append(" | ").append(median(sandbox.get(pair[0]))).append(" / ")
                        .append(median(started.get(pair[0]))).append(" ms |\n");
            });
            System.out.println((stack.containerd2() ? "2.1" : "1.6") + " raw ms: " + ms);
        }
        String load = Files.readString(Path.of("/proc/loadavg")).strip();
        table.append("\n").append(runs).append(" runs per cell (medians), load average at the end: ").append(load).append('\n');
        System.out.println(table);
        Path out = Containerd.REPO.resolve("integration-tests/target/scale-from-zero.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, table);
    }

    /**
     * One pod, removed untimed: ms from RunPodSandbox to {ready sandbox, containers started, first 200 with the
     * application's page}.
     */
    private long[] once(Cri cri, Variant v, int run) throws Exception {
        PodSandboxConfig pod = cri.podConfig((v.urunc ? "urunc" : "runc") + (v.proxied ? "-proxied-" : "-direct-")
                + (run < 0 ? "warm" : Integer.toString(run)));
        long t0 = System.nanoTime();
        String podId = cri.runPod(pod, v.urunc ? Cri.URUNC : Cri.RUNC);
        long sandbox = System.nanoTime();
        try {
            ContainerConfig app = v.urunc ? Cri.containerConfig("app", Guests.HTTPD, List.of())
                    : Cri.containerConfig("app", PlainImages.BUSYBOX, List.of("/bin/busybox", "sh", "-c",
                    "mkdir -p /www && echo " + MARKER + " > /www/index.html && exec /bin/busybox httpd -f -p 80 -h /www"));
            cri.startContainer(podId, pod, app);
            if (v.proxied) {
                cri.startContainer(podId, pod, Cri.containerConfig("proxy", PlainImages.BUSYBOX,
                        List.of("/bin/busybox", "sh", "-c", PROXY)));
            }
            long started = System.nanoTime();
            String url = "http://" + cri.podIp(podId) + (v.proxied ? ":8012/cgi-bin/p" : ":80/");
            awaitPage(url, cri);
            long page = System.nanoTime();
            return new long[] {(sandbox - t0) / 1_000_000, (started - t0) / 1_000_000, (page - t0) / 1_000_000};
        } finally {
            cri.removePod(podId);
        }
    }

    private void awaitPage(String url, Cri cri) throws Exception {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains(MARKER)) return;
            } catch (java.io.IOException e) {
                // not up yet
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no page from " + url + " within " + LIMIT + "\n" + cri.diagnostics());
    }

    private static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
