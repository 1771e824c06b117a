package io.urunc.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Real processes started by {@link Spawn} and waited for on their pidfd. */
class SpawnTest {
    private static final Map<String, String> ENV = Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");

    private static ChildExit run(String... argv) throws Exception {
        Spawn.Child c = Spawn.spawn(List.of(argv), ENV, "/dev/null", "/dev/null");
        c.stderr().close();
        try {
            return Libc.waitPidfdExit(c.pidfd());
        } finally {
            Libc.close(c.pidfd());
        }
    }

    @Test
    void anExitWithCode137IsNotADeathBySigkill() throws Exception {
        ChildExit exited = run("/bin/sh", "-c", "exit 137");
        ChildExit killed = run("/bin/sh", "-c", "kill -9 $$");
        assertEquals(ChildExit.exited(137), exited);
        assertEquals(ChildExit.killedBy(9), killed);
        assertEquals(137, exited.shellCode());
        assertEquals(137, killed.shellCode(), "what a shell or the JDK would have said of both");
    }

    @Test
    void theChildReadsAndWritesThePathsItIsGivenAndStderrComesBackOnAPipe(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in"), out = dir.resolve("out");
        Files.writeString(in, "hello\n");
        Files.writeString(out, "before\n");
        Spawn.Child c = Spawn.spawn(List.of("sh", "-c", "read x; echo got $x; echo oops >&2; exit 3"), ENV,
                in.toString(), out.toString());
        String err;
        try (var stderr = c.stderr()) {
            err = new String(stderr.readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(ChildExit.exited(3), Libc.waitPidfdExit(c.pidfd()));
        } finally {
            Libc.close(c.pidfd());
        }
        assertEquals("oops\n", err);
        assertEquals("before\ngot hello\n", Files.readString(out), "stdout is appended to");
    }

    @Test
    void theChildGetsOnlyItsStdioAndTheEnvironmentItIsGiven(@TempDir Path dir) throws Exception {
        int leak = Libc.open("/dev/null", Libc.O_RDONLY, 0); // not close-on-exec
        Path out = dir.resolve("out");
        try {
            Spawn.Child c = Spawn.spawn(List.of("/bin/sh", "-c", "ls /proc/$$/fd; env"), Map.of("PATH", "/bin", "ONLY", "this"),
                    "/dev/null", out.toString());
            c.stderr().close();
            assertEquals(ChildExit.exited(0), Libc.waitPidfdExit(c.pidfd()));
            Libc.close(c.pidfd());
        } finally {
            Libc.close(leak);
        }
        List<String> lines = Files.readAllLines(out);
        assertEquals(List.of("0", "1", "2"), lines.stream().filter(l -> l.matches("\\d+")).toList(), lines.toString());
        assertTrue(lines.contains("ONLY=this"), lines.toString());
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("HOME=") || l.startsWith("JAVA_HOME=")), lines.toString());
    }

    @Test
    void aMissingProgramIsAnErrorNamingIt() {
        SysException e = assertThrows(SysException.class,
                () -> Spawn.spawn(List.of("/nonexistent/vmm"), ENV, "/dev/null", "/dev/null"));
        assertTrue(e.getMessage().contains("/nonexistent/vmm"), e.getMessage());
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void siginfoDecoding() {
        assertEquals(ChildExit.exited(137), ChildExit.fromSiginfo(1, 137));
        assertEquals(ChildExit.killedBy(9), ChildExit.fromSiginfo(2, 9));
        assertEquals(ChildExit.killedBy(6), ChildExit.fromSiginfo(3, 6), "a core dump is a death by the signal");
        assertThrows(IllegalArgumentException.class, () -> ChildExit.fromSiginfo(5, 19), "a stop is not an end");
        assertThrows(IllegalStateException.class, () -> ChildExit.killedBy(9).code());
        assertEquals(ChildExit.exited(137), ChildExit.fromWaitStatus(137 << 8), "WIFEXITED, WEXITSTATUS 137");
        assertEquals(ChildExit.killedBy(9), ChildExit.fromWaitStatus(9));
        assertEquals(ChildExit.killedBy(11), ChildExit.fromWaitStatus(0x80 | 11), "core dumped");
        assertThrows(IllegalArgumentException.class, () -> ChildExit.fromWaitStatus((19 << 8) | 0x7f), "stopped");
    }
}
