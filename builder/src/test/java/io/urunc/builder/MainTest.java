package io.urunc.builder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    @TempDir
    Path tmp;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void helpDescribesTheCommand() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: urunc-build build -t NAME[:TAG]"));
    }

    @Test
    void badCommandLinesExitTwoWithAHint() {
        assertEquals(2, run("build", "-t", "x", "--frobnicate", "."));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown option --frobnicate"));
        assertEquals(2, run("build", "."));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("missing -t NAME[:TAG]"));
    }

    @Test
    void buildErrorsExitOneNamingFileAndLine() throws Exception {
        Files.writeString(tmp.resolve("Containerfile"), "FROM scratch\nENV A=b\n");
        assertEquals(1, run("build", "-t", "x:1", "-o", tmp.resolve("x.tar").toString(), tmp.toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains(tmp.resolve("Containerfile") + ":2: ENV is not supported"), err.toString());
    }

    @Test
    void buildPrintsTheManifestDigest() throws Exception {
        Files.write(tmp.resolve("k"), new byte[] {0x7f, 'E', 'L', 'F'});
        Files.writeString(tmp.resolve("Containerfile"), """
                FROM scratch
                COPY k /k
                LABEL com.urunc.unikernel.unikernelType=mewz com.urunc.unikernel.hypervisor=qemu \\
                      com.urunc.unikernel.binary=/k com.urunc.unikernel.cmdline=""
                """);
        assertEquals(0, run("build", "-q", "-t", "x:1", "--output", "oci-dir", "-o", tmp.resolve("img").toString(), tmp.toString()), err.toString());
        assertTrue(out.toString(StandardCharsets.UTF_8).strip().matches("sha256:[0-9a-f]{64}"));
        assertTrue(Files.exists(tmp.resolve("img/oci-layout")));
    }
}
