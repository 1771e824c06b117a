package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Daemons;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Processes;
import io.urunc.it.support.TaskStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One task's misbehaving VMM stays that task's problem, on a daemon that serves other tasks meanwhile. The daemon's
 * QEMU is a stand-in that runs the real QEMU, unless the guest's command line asks it to misbehave: to flood its
 * console (stdout and stderr), to never answer on its QMP socket, or to stop answering once the guest runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TaskConfinementIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private static final int FLOOD_MIB = 64;

    private static final String FAKE_QEMU = """
            #!/usr/bin/python3
            import json, os, socket, sys, threading, time
            args = sys.argv[1:]
            words = args[args.index("-append") + 1].split() if "-append" in args else []
            mode = next((w.split("=")[-1] for w in words if w.split("=")[-1] in ("flood", "qmp-deaf", "qmp-hangs")), None)
            if mode is None:
                os.execv("/usr/bin/qemu-system-x86_64", ["qemu-system-x86_64"] + args)
            path = args[args.index("-qmp") + 1][len("unix:"):].split(",")[0]
            server = socket.socket(socket.AF_UNIX); server.bind(path); server.listen(8)
            held = []

            def flood():
                line = b"FLOOD " + b"x" * 1018 + b"\\n"
                for _ in range(%d * 1024):
                    os.write(1, line); os.write(2, line)
                print("FLOOD: done", flush=True)

            def answer(conn):
                if mode == "qmp-deaf":
                    held.append(conn); return   # connected, never a word
                conn.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\\r\\n')
                buf = b""
                while True:
                    chunk = conn.recv(4096)
                    if not chunk: return
                    buf += chunk
                    while b"\\n" in buf:
                        line, buf = buf.split(b"\\n", 1)
                        req = json.loads(line)
                        cmd = req.get("execute")
                        if cmd == "query-status":
                            ret = {"status": "running", "running": True}
                        else:
                            ret = {}
                        conn.sendall(json.dumps({"return": ret, "id": req.get("id")}).encode() + b"\\r\\n")
                        if cmd == "cont" and mode == "flood":
                            threading.Thread(target=flood, daemon=True).start()
                        if cmd == "cont" and mode == "qmp-hangs":
                            held.append(conn); return   # the guest runs; QEMU answers no more
                        if cmd in ("quit", "system_powerdown"):
                            os._exit(0)

            while True:
                conn, _ = server.accept()
                threading.Thread(target=answer, args=(conn,), daemon=True).start()
            """.formatted(FLOOD_MIB);

    private Containerd containerd;
    private Path dir;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("uit-confine");
        Path fake = dir.resolve("qemu-system-x86_64");
        Files.writeString(fake, FAKE_QEMU);
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        // the last table of the base config is [monitors.qemu]: this line belongs to it
        containerd = Containerd.start("disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n", "path = \"" + fake + "\"\n");
        Guests.importInto(containerd, "default", "tiny");
    }

    @AfterAll
    void stop() {
        if (containerd != null) containerd.close();
        if (dir != null) Containerd.deleteTree(dir);
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }

    /** A well-behaved task on the same daemon, meanwhile: the real QEMU, a guest that exits 3. */
    private CompletableFuture<Exec.Result> neighbour(String id) {
        return CompletableFuture.supplyAsync(() -> containerd.ctr(Duration.ofMinutes(2),
                "run", "--rm", "--runtime", RUNTIME, Guests.TINY, id, "exit=3"));
    }

    private void assertNeighbourFine(CompletableFuture<Exec.Result> n) throws Exception {
        Exec.Result r = n.get(90, TimeUnit.SECONDS);
        assertEquals(3, r.exit(), "the other task on the daemon ran and exited as its guest said: " + r + diagnostics());
    }

    private Process runInBackground(String id, String... guestArgs) throws IOException {
        List<String> cmd = new ArrayList<>(containerd.ctrCommand("run", "--rm", "--runtime", RUNTIME, Guests.TINY, id));
        cmd.addAll(List.of(guestArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve(id + ".out").toFile())
                .redirectError(dir.resolve(id + ".err").toFile());
        pb.environment().putAll(containerd.env());
        return pb.start();
    }

    @Test
    void aVmmFloodingItsConsoleCostsTheDaemonNoHeapAndStallsNoOtherTask() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "keeper", "run").ok(); // keeps the daemon up
        try {
            long daemon = Daemons.pidOf(containerd);
            long before = Daemons.liveHeap(daemon);
            Process flood = runInBackground("flood", "flood");
            var other = neighbour("flood-neighbour");
            assertNeighbourFine(other);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.readString(dir.resolve("flood.out")).endsWith("FLOOD: done\n") && System.nanoTime() < deadline) Thread.sleep(200);
            long outBytes = Files.size(dir.resolve("flood.out")), errBytes = Files.size(dir.resolve("flood.err"));
            long after = Daemons.liveHeap(daemon);
            System.out.printf("console flood: %d MiB stdout, %d MiB stderr through the task; daemon live heap %d -> %d KiB%n",
                    outBytes >> 20, errBytes >> 20, before >> 10, after >> 10);
            assertTrue(outBytes >= (long) FLOOD_MIB << 20, "all of stdout reached the client: " + outBytes + diagnostics());
            assertTrue(errBytes >= (long) FLOOD_MIB << 20, "all of stderr reached the client: " + errBytes + diagnostics());
            assertTrue(after - before < 4 << 20, "the daemon's heap grew by " + ((after - before) >> 10) + " KiB");
            containerd.ctr("task", "kill", "-s", "SIGKILL", "flood").ok();
            assertTrue(flood.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, flood.exitValue());
        } finally {
            containerd.ctr("task", "kill", "-s", "SIGKILL", "keeper");
            TaskStatus.await(containerd, "keeper", "STOPPED", this::diagnostics);
            containerd.ctr("task", "delete", "keeper");
            containerd.ctr("container", "delete", "keeper");
        }
    }

    @Test
    void aQmpSocketThatNeverAnswersFailsThatCreateInBoundedTimeAndOnlyIt() throws Exception {
        var other = neighbour("deaf-neighbour");
        long t0 = System.nanoTime();
        Exec.Result r = containerd.ctr(Duration.ofMinutes(2), "run", "--rm", "--runtime", RUNTIME, Guests.TINY, "deaf", "qmp-deaf");
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertNotEquals(0, r.exit(), r.toString());
        assertTrue(r.stderr().contains("did not answer on its control socket"), r + diagnostics());
        assertTrue(r.stderr().contains("qmp.sock"), "the error names the socket: " + r);
        assertTrue(seconds < 40, "Create failed after " + seconds + " s");
        assertNeighbourFine(other);
        containerd.ctr("container", "delete", "deaf");
        assertTrue(Processes.matching("qmp-deaf").stream().noneMatch(p -> Processes.cmdline(p.pid()).contains(dir.toString())),
                "the deaf VMM is gone");
    }

    @Test
    void aQmpSocketThatStopsAnsweringFailsPauseClearlyAndKillStillEndsTheTask() throws Exception {
        Process hung = runInBackground("hung", "qmp-hangs");
        TaskStatus.await(containerd, "hung", "RUNNING", this::diagnostics);
        var other = neighbour("hung-neighbour");
        long t0 = System.nanoTime();
        Exec.Result pause = containerd.ctr("task", "pause", "hung");
        long pauseSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertNotEquals(0, pause.exit(), pause.toString());
        assertTrue(pause.stderr().contains("no QMP reply to stop"), pause + diagnostics());
        assertTrue(pauseSeconds < 15, "pause failed after " + pauseSeconds + " s");
        assertEquals("RUNNING", TaskStatus.of(containerd, "hung"), "a pause that failed leaves the task running");
        t0 = System.nanoTime();
        containerd.ctr("task", "kill", "-s", "SIGTERM", "hung").ok();
        assertTrue(hung.waitFor(30, TimeUnit.SECONDS), "the task ended after SIGTERM" + diagnostics());
        long killSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertEquals(137, hung.exitValue(), "the power-off request went unanswered: the VMM was killed" + diagnostics());
        assertTrue(killSeconds < 20, "kill took " + killSeconds + " s");
        assertNeighbourFine(other);
    }
}
