package io.urunc.shim;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The shell launcher answers `start` for a live daemon without a JVM (URUNC_JAVA=/bin/false proves it),
 * and hands anything doubtful to Java.
 */
class LauncherFastPathTest {
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void cleanup() throws Exception {
        for (AutoCloseable c : toClose.reversed()) c.close();
    }

    private record Run(int exit, String output) {}

    private Run start(Path bundle, Path config, String address) throws Exception {
        return launcher(bundle, config, address, "start");
    }

    private Run launcher(Path bundle, Path config, String address, String action) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", Path.of("bin/containerd-shim-urunc-v2").toAbsolutePath().toString(),
                "-namespace", "fastpath", "-address", address, "-publish-binary", "/usr/bin/containerd",
                "-id", "c1", action).directory(bundle.toFile()).redirectErrorStream(true);
        pb.environment().put("URUNC_JAVA", "/bin/false");
        pb.environment().put("URUNC_HOME", "/nonexistent");
        pb.environment().put("URUNC_CONFIG_FILE", config.toString());
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return new Run(p.exitValue(), new String(out, StandardCharsets.ISO_8859_1));
    }

    @Test
    void deleteOfAnAlreadyCleanedTaskIsAnsweredWithoutJava(@TempDir Path dir) throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Path config = dir.resolve("c.toml");
        Files.writeString(config, "[shim]\nstate_dir = \"" + state + "\"\n");
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        long before = System.currentTimeMillis() / 1000;

        Run run = launcher(bundle, config, "/run/x.sock", "delete");
        assertEquals(0, run.exit());
        var response = io.urunc.proto.task.DeleteResponse.parseFrom(run.output().getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(137, response.getExitStatus(), "128+SIGKILL, as containerd's runc shim answers");
        assertTrue(response.getExitedAt().getSeconds() >= before
                && response.getExitedAt().getSeconds() <= before + 5, response.toString());

        // A task record means there may be a VMM, mount or tap to clean: that is Java's job.
        Files.createDirectories(state.resolve("tasks/fastpath"));
        Files.writeString(state.resolve("tasks/fastpath/c1.json"), "{}");
        Run withRecord = launcher(bundle, config, "/run/x.sock", "delete");
        assertNotEquals(0, withRecord.exit(), "went to the JVM (/bin/false here)");
    }

    @Test
    void liveDaemonIsFoundWithoutJava(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path config = dir.resolve("c.toml");
        Files.writeString(config, "[shim]\nstate_dir = \"" + state + "\"\n");
        String address = dir.resolve("containerd.sock").toString();
        DaemonAddress daemon = DaemonAddress.of(address, "fastpath", "", state);
        Files.createDirectories(daemon.pidFile().getParent());
        Files.createDirectories(daemon.socket().getParent());
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(daemon.socket()));
        toClose.add(() -> {
            listener.close();
            Files.deleteIfExists(daemon.socket());
        });
        Process fakeDaemon = new ProcessBuilder("python3", "-c", "import time; time.sleep(30)", "io.urunc.shim.Main",
                "-socket", daemon.socket().toString(), "daemon").start();
        toClose.add(fakeDaemon::destroyForcibly);
        // start() may return before the child has exec'd (its cmdline is then "/" or empty for a moment); a real
        // daemon writes its pid file once it runs
        Path cmdline = Path.of("/proc/" + fakeDaemon.pid() + "/cmdline");
        for (int i = 0; i < 200 && !Files.readString(cmdline).contains("io.urunc.shim.Main"); i++) Thread.sleep(10);
        Files.writeString(daemon.pidFile(), Long.toString(fakeDaemon.pid()));
        Path bundle = Files.createDirectories(dir.resolve("bundle"));

        Run run = start(bundle, config, address);
        assertEquals(0, run.exit(), run.output());
        assertEquals("unix://" + daemon.socket(), run.output(), "exactly the address, nothing else");
        assertEquals("unix://" + daemon.socket(), Files.readString(bundle.resolve("address")));
        assertTrue(Files.exists(daemon.wantedFile()), "a start marks the daemon as wanted");

        // A pid that is no longer that daemon: the launcher does not trust it and runs Java (here: /bin/false).
        fakeDaemon.destroyForcibly().waitFor();
        Files.delete(bundle.resolve("address"));
        Run stale = start(bundle, config, address);
        assertNotEquals(0, stale.exit());
        assertFalse(stale.output().contains("unix://"), stale.output());
        assertFalse(Files.exists(bundle.resolve("address")));
    }
}
