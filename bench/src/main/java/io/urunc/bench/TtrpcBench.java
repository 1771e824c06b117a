package io.urunc.bench;

import io.urunc.proto.task.ConnectRequest;
import io.urunc.proto.task.ConnectResponse;
import io.urunc.ttrpc.CallContext;
import io.urunc.ttrpc.TtrpcClient;
import io.urunc.ttrpc.TtrpcServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Round-trip latency and throughput of the unary {@code containerd.task.v2.Task/Connect} call, from our client to
 * our server and to Debian's Go containerd-shim-runc-v2, in the same run. Bounded to well under a minute.
 *
 * <p>Usage: {@code TtrpcBench [seconds-per-measurement]} (default 4; each measurement also gets a 1.5 s warm-up).
 */
public final class TtrpcBench {
    private static final String TASK = "containerd.task.v2.Task";
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

    /** One load shape: {@code connections} clients, each with {@code inFlight} calls outstanding at all times. */
    record Scenario(String name, int connections, int inFlight) {
    }

    private static final List<Scenario> SCENARIOS = List.of(
            new Scenario("1 conn x 1 in flight", 1, 1),
            new Scenario("8 conns x 16 in flight", 8, 16));

    private TtrpcBench() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 4;
        Duration measure = Duration.ofMillis((long) (seconds * 1000));
        Duration warmUp = Duration.ofMillis(1500);

        Map<String, Map<Scenario, LatencyRecorder.Result>> results = new LinkedHashMap<>();
        Path dir = Files.createTempDirectory("urunc-bench");
        Path ourSocket = dir.resolve("bench.sock");
        try (TtrpcServer server = TtrpcServer.builder()
                .register(TASK, "Connect", ConnectRequest.parser(), (ConnectRequest req, CallContext ctx) ->
                        ConnectResponse.newBuilder().setShimPid((int) ProcessHandle.current().pid()).setVersion("2").build())
                .build()) {
            server.bind(ourSocket);
            results.put("java server", runAll(ourSocket, warmUp, measure));
        } finally {
            Files.deleteIfExists(ourSocket);
            Files.deleteIfExists(dir);
        }

        Optional<String> goUnavailable = GoShimTarget.unavailableReason();
        if (goUnavailable.isEmpty()) {
            try (GoShimTarget go = GoShimTarget.start()) {
                results.put("go runc shim", runAll(go.socket(), warmUp, measure));
            }
        }
        print(results, goUnavailable);
    }

    private static Map<Scenario, LatencyRecorder.Result> runAll(Path socket, Duration warmUp, Duration measure) throws Exception {
        Map<Scenario, LatencyRecorder.Result> byScenario = new LinkedHashMap<>();
        for (Scenario scenario : SCENARIOS) {
            run(socket, scenario, warmUp);
            byScenario.put(scenario, run(socket, scenario, measure));
        }
        return byScenario;
    }

    /** Keeps {@code connections * inFlight} virtual threads calling Connect back to back until the time is up. */
    private static LatencyRecorder.Result run(Path socket, Scenario scenario, Duration length) throws Exception {
        List<TtrpcClient> clients = new ArrayList<>();
        LatencyRecorder all = new LatencyRecorder();
        try {
            for (int i = 0; i < scenario.connections(); i++) {
                clients.add(TtrpcClient.connect(socket));
            }
            ConnectRequest request = ConnectRequest.newBuilder().setId("bench").build();
            long start = System.nanoTime();
            long end = start + length.toNanos();
            List<Thread> workers = new ArrayList<>();
            List<LatencyRecorder> recorders = new ArrayList<>();
            for (TtrpcClient client : clients) {
                for (int j = 0; j < scenario.inFlight(); j++) {
                    LatencyRecorder recorder = new LatencyRecorder();
                    recorders.add(recorder);
                    workers.add(Thread.ofVirtual().start(() -> {
                        try {
                            for (long t0 = System.nanoTime(); t0 < end; t0 = System.nanoTime()) {
                                client.call(TASK, "Connect", request, ConnectResponse.parser(), CALL_TIMEOUT, Map.of());
                                recorder.record(System.nanoTime() - t0);
                            }
                        } catch (Exception e) {
                            throw new IllegalStateException("benchmark call failed", e);
                        }
                    }));
                }
            }
            for (Thread worker : workers) {
                worker.join();
            }
            long elapsed = System.nanoTime() - start;
            recorders.forEach(all::merge);
            return all.result(elapsed);
        } finally {
            clients.forEach(TtrpcClient::close);
        }
    }

    private static void print(Map<String, Map<Scenario, LatencyRecorder.Result>> results, Optional<String> goUnavailable) {
        System.out.printf("%-24s %-14s %10s %12s %10s %10s%n", "scenario", "server", "calls", "calls/s", "p50 us", "p99 us");
        for (Scenario scenario : SCENARIOS) {
            for (var entry : results.entrySet()) {
                LatencyRecorder.Result r = entry.getValue().get(scenario);
                System.out.printf("%-24s %-14s %10d %12.0f %10.1f %10.1f%n", scenario.name(), entry.getKey(),
                        r.calls(), r.callsPerSecond(), r.p50Micros(), r.p99Micros());
            }
            if (results.size() == 2) {
                var it = results.values().iterator();
                LatencyRecorder.Result java = it.next().get(scenario);
                LatencyRecorder.Result go = it.next().get(scenario);
                System.out.printf("%-24s %-14s %10s %11.2fx %9.2fx %9.2fx%n", scenario.name(), "java/go", "",
                        java.callsPerSecond() / go.callsPerSecond(), java.p50Micros() / go.p50Micros(),
                        java.p99Micros() / go.p99Micros());
            }
        }
        goUnavailable.ifPresent(reason -> System.out.println("go runc shim not measured: " + reason));
        System.out.println("client: our Java ttrpc client in every row; 2-core machine, figures vary with load.");
    }
}
