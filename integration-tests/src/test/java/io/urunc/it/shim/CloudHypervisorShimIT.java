package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.OciArchive;
import io.urunc.it.support.TaskStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The shim's Cloud Hypervisor path through ctr, against a stand-in for the real binary (not installable here): a
 * script with Cloud Hypervisor's command line and REST API (HTTP/1.1 on the --api-socket), whose API answers before
 * its VM is booted, as the real one does. It proves the shim starts it at Start with the planned argv, waits for the
 * booted VM before removing the kernel copy, drives pause/resume/power-button over the API, and passes its exit
 * status through.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CloudHypervisorShimIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private static final String IMAGE = "urunc.test/fake-ch:latest";

    /** A Cloud Hypervisor as far as the shim can tell; it logs each API request to REQUESTS. */
    private static final String FAKE = """
            #!/usr/bin/python3
            import os, socket, sys, threading, time
            REQUESTS = %s
            args, opts, i = sys.argv[1:], {}, 0
            while i < len(args):
                opts.setdefault(args[i][2:], []).append(args[i + 1]); i += 2
            api = opts["api-socket"][0].split("path=", 1)[1]
            assert opts["seccomp"] == ["true"] and opts["console"] == ["off"] and opts["serial"] == ["tty"], opts
            words = opts["cmdline"][0].split()
            state = {"vm": None}
            server = socket.socket(socket.AF_UNIX); server.bind(api); server.listen(8)

            def log(line):
                with open(REQUESTS, "a") as f: f.write(line + "\\n")

            def answer(conn):
                buf = b""
                while True:
                    while b"\\r\\n\\r\\n" not in buf:
                        chunk = conn.recv(4096)
                        if not chunk: return
                        buf += chunk
                    head, buf = buf.split(b"\\r\\n\\r\\n", 1)
                    method, path = head.decode().split(" ")[:2]
                    action = path.rsplit("/", 1)[1]
                    log(method + " " + path)
                    if action == "vm.info":
                        if state["vm"] is None:
                            body = b'{"error":"VM is not created"}'
                            conn.sendall(b"HTTP/1.1 500 Internal Server Error\\r\\nContent-Length: %%d\\r\\n\\r\\n" %% len(body) + body)
                        else:
                            body = ('{"config":{},"state":"%%s"}' %% state["vm"]).encode()
                            conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %%d\\r\\n\\r\\n" %% len(body) + body)
                        continue
                    state["vm"] = {"vm.pause": "Paused", "vm.resume": "Running"}.get(action, state["vm"])
                    conn.sendall(b"HTTP/1.1 204 No Content\\r\\n\\r\\n")
                    if action == "vm.power-button":
                        print("FAKE-CH: powered off", flush=True); os._exit(0)

            def serve():
                while True:
                    conn, _ = server.accept()
                    threading.Thread(target=answer, args=(conn,), daemon=True).start()

            threading.Thread(target=serve, daemon=True).start()
            time.sleep(0.5)   # the API is up before the VM exists
            kernel = open(opts["kernel"][0], "rb").read()
            state["vm"] = "Running"
            print("FAKE-CH: booted %%d-byte kernel, memory %%s, cpus %%s, cmdline %%s" %% (len(kernel), opts["memory"][0], opts["cpus"][0], " ".join(words)), flush=True)
            for w in words:
                if w.startswith("exit="):
                    time.sleep(0.3); os._exit(int(w[5:]))
            while True: time.sleep(1)
            """;

    private Containerd containerd;
    private Path dir;
    private Path requests;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("uit-ch");
        requests = dir.resolve("requests.log");
        Path fake = dir.resolve("cloud-hypervisor");
        Files.writeString(fake, FAKE.formatted("\"" + requests + "\""));
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        containerd = Containerd.start("disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n",
                "[monitors.cloud-hypervisor]\npath = \"" + fake + "\"\n");
        Path archive = dir.resolve("fake-ch.tar");
        OciArchive.write(archive, IMAGE, List.of(
                new OciArchive.ImageFile("/kernel", 0644, "a kernel for the fake".repeat(10).getBytes(StandardCharsets.UTF_8)),
                new OciArchive.ImageFile("/urunc.json", 0644, """
                        {"com.urunc.unikernel.unikernelType": "linux", "com.urunc.unikernel.hypervisor": "cloud-hypervisor",
                         "com.urunc.unikernel.binary": "/kernel", "com.urunc.unikernel.cmdline": "/init"}
                        """.getBytes(StandardCharsets.UTF_8))), List.of(), List.of("/init"));
        containerd.ctr("images", "import", archive.toString()).ok();
    }

    @AfterAll
    void stop() {
        if (containerd != null) containerd.close();
        if (dir != null) Containerd.deleteTree(dir);
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }

    @Test
    void itIsStartedWithThePlannedCommandLineAndItsExitStatusIsTheTasks() {
        Exec.Result r = containerd.ctr("run", "--rm", "--runtime", RUNTIME, "--memory-limit", "268435456", IMAGE, "ch-exit", "/init", "exit=7");
        assertEquals(7, r.exit(), r + diagnostics());
        assertTrue(r.stdout().contains("FAKE-CH: booted 210-byte kernel, memory size=256M, cpus boot=1, cmdline console=ttyS0 panic=-1 init=/init -- exit=7"),
                r + diagnostics());
    }

    @Test
    void pauseResumeAndAGracefulStopGoThroughItsApi() throws Exception {
        Files.deleteIfExists(requests);
        ProcessBuilder pb = new ProcessBuilder("ctr", "--address", containerd.socket().toString(), "run", "--rm", "--runtime", RUNTIME,
                IMAGE, "ch-run", "/init", "run").redirectErrorStream(true).redirectOutput(containerd.dir().resolve("ch-run.out").toFile());
        pb.environment().putAll(containerd.env());
        Process run = pb.start();
        TaskStatus.await(containerd, "ch-run", "RUNNING", this::diagnostics);
        ok(containerd.ctr("task", "pause", "ch-run"));
        assertEquals("PAUSED", status("ch-run"));
        ok(containerd.ctr("task", "resume", "ch-run"));
        assertEquals("RUNNING", status("ch-run"));
        ok(containerd.ctr("task", "kill", "-s", "SIGTERM", "ch-run"));
        assertTrue(run.waitFor(30, TimeUnit.SECONDS), "ctr run returns once the guest powered off");
        String out = Files.readString(containerd.dir().resolve("ch-run.out"));
        assertEquals(0, run.exitValue(), out + diagnostics());
        assertTrue(out.contains("FAKE-CH: powered off"), out);
        List<String> calls = Files.readAllLines(requests).stream().filter(l -> !l.endsWith("vm.info")).toList();
        assertEquals(List.of("PUT /api/v1/vm.pause", "PUT /api/v1/vm.resume", "PUT /api/v1/vm.power-button"), calls, diagnostics());
        assertTrue(Files.readAllLines(requests).getFirst().equals("GET /api/v1/vm.info"), "the shim waits for the booted VM first");
    }

    private void ok(Exec.Result r) {
        assertEquals(0, r.exit(), r + diagnostics());
    }

    private String status(String id) {
        return TaskStatus.of(containerd, id);
    }
}
