package io.urunc.shim;

import io.urunc.proto.types.RuntimeInfo;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** `-info` answers the same RuntimeInfo from the launcher (no JVM) and from the Java entry point. */
class RuntimeInfoTest {

    private static byte[] run(ProcessBuilder pb) throws Exception {
        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), pb.command() + " failed");
        return out;
    }

    @Test
    void launcherAnswersJavasBytesWithoutAJvm() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", Path.of("bin/containerd-shim-urunc-v2").toAbsolutePath().toString(),
                "-info");
        pb.environment().put("URUNC_JAVA", "/bin/false");
        byte[] expected = RuntimeInfoCommand.info().toByteArray();
        byte[] launcher = run(pb);
        assertArrayEquals(expected, launcher, "bin/containerd-shim-urunc-v2's RUNTIME_INFO is stale; it must be '"
                + RuntimeInfoCommand.printfFormat(expected) + "'");
    }

    @Test
    void javaEntryPointAnswersRuntimeInfo() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        byte[] out = run(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "--enable-native-access=ALL-UNNAMED", Main.class.getName(), "-info"));
        RuntimeInfo info = RuntimeInfo.parseFrom(out);
        assertEquals("io.containerd.urunc.v2", info.getName());
        assertEquals(Main.VERSION, info.getVersion().getVersion());
        assertEquals("bind,overlay", info.getAnnotationsMap().get("containerd.io/runtime-allow-mounts"),
                "the rootfs mount types the shim mounts itself");
    }
}
