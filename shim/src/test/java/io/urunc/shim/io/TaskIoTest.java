package io.urunc.shim.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The reader of a task's stdout FIFO (containerd's client) sees everything the process wrote and then EOF once the
 * process has exited and the shim dropped its ends: containerd 2.x's Task.Delete waits for that EOF.
 */
class TaskIoTest {

    @Test
    void readerGetsTheLastBytesThenEofOnceOutputsAreClosed(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("stdout");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        try (TaskIo io = TaskIo.open("", fifo.toString(), "")) {
            // the shim holds the FIFO read-write, so opening the reader does not block
            try (InputStream reader = new FileInputStream(fifo.toFile())) {
                CompletableFuture<String> read = CompletableFuture.supplyAsync(() -> {
                    try {
                        return new String(reader.readAllBytes(), StandardCharsets.UTF_8);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                Process guest = new ProcessBuilder("sh", "-c", "echo booted; echo last line before power-off")
                        .redirectOutput(io.stdoutRedirect()).start();
                assertEquals(0, guest.waitFor());
                assertThrows(TimeoutException.class, () -> read.get(300, TimeUnit.MILLISECONDS),
                        "while the shim holds its end the reader sees no EOF (containerd 2.x's Delete would wait forever)");

                io.closeOutputs();
                assertEquals("booted\nlast line before power-off\n", read.get(5, TimeUnit.SECONDS));
            }
        }
    }
}
