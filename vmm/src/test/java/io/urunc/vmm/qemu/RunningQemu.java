package io.urunc.vmm.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A QEMU child for tests: stdin /dev/null, stdout+stderr to a file, always killed on close. */
final class RunningQemu implements AutoCloseable {
    final Process process;
    private final Path log;

    RunningQemu(List<String> argv, Path dir) throws IOException {
        log = dir.resolve("qemu.log");
        process = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Exit status, or fails the caller's assertion by throwing after {@code seconds}. */
    int await(long seconds) throws Exception {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) throw new AssertionError("QEMU still running after " + seconds + " s; output:\n" + output());
        return process.exitValue();
    }

    String output() throws IOException { return Files.readString(log); }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
