package io.urunc.shim.runc;

import io.netty.channel.unix.FileDescriptor;
import io.urunc.shim.io.TaskIo;
import java.lang.System.Logger.Level;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Copies between a terminal container's pty master and the task's FIFOs: stdin to the master, the master
 * to stdout (a terminal has no separate stderr). Blocking reads on platform threads; the output copy ends
 * when the last holder of the pty's slave side is gone (read fails with EIO).
 */
final class ConsoleCopy implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ConsoleCopy.class.getName());

    private static final long TIOCSWINSZ = 0x5414;

    private final FileDescriptor master;
    private final CompletableFuture<Void> outputDone = new CompletableFuture<>();
    private volatile InputStream stdin;

    private ConsoleCopy(FileDescriptor master) {
        this.master = master;
    }

    static ConsoleCopy start(FileDescriptor master, TaskIo io, String id) throws IOException {
        try {
            Blocking.set(master.intValue());
        } catch (io.urunc.sys.SysException e) {
            throw new IOException("pty master: " + e.getMessage(), e);
        }
        ConsoleCopy c = new ConsoleCopy(master);
        File out = io.stdoutRedirect().file();
        OutputStream stdout = new FileOutputStream(out == null ? new File("/dev/null") : out, true);
        Thread.ofPlatform().daemon().name("console-out-" + id).start(() -> c.copyOut(stdout));
        if (!io.stdinPath().isEmpty()) {
            c.stdin = new FileInputStream(io.stdinRedirect().file());
            Thread.ofPlatform().daemon().name("console-in-" + id).start(c::copyIn);
        }
        return c;
    }

    private void copyOut(OutputStream stdout) {
        ByteBuffer buf = ByteBuffer.allocateDirect(32 * 1024);
        byte[] bytes = new byte[buf.capacity()];
        try (stdout) {
            while (true) {
                int n = master.read(buf, 0, buf.capacity());
                if (n <= 0) break;
                buf.get(0, bytes, 0, n);
                stdout.write(bytes, 0, n);
            }
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "console output ended: {0}", e.getMessage());
        } finally {
            outputDone.complete(null);
        }
    }

    private void copyIn() {
        ByteBuffer buf = ByteBuffer.allocateDirect(8 * 1024);
        byte[] bytes = new byte[buf.capacity()];
        try (InputStream in = stdin) {
            int n;
            while ((n = in.read(bytes)) > 0) {
                buf.clear();
                buf.put(bytes, 0, n);
                int off = 0;
                while (off < n) off += master.write(buf, off, n);
            }
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "console input ended: {0}", e.getMessage());
        }
    }

    /** Sets the terminal's window size (TIOCSWINSZ on the master): what a client's ResizePty asks for. */
    void resize(int width, int height) throws IOException {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment ws = io.urunc.sys.Libc.zeroed(a, 8);
            ws.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) Math.clamp(height, 0, 0xffff));
            ws.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 2, (short) Math.clamp(width, 0, 0xffff));
            io.urunc.sys.Libc.ioctl(master.intValue(), TIOCSWINSZ, ws);
        } catch (io.urunc.sys.SysException e) {
            throw new IOException("resize terminal: " + e.getMessage(), e);
        }
    }

    /** Waits (bounded) until everything the container wrote to its terminal reached stdout. */
    void awaitOutput(Duration timeout) {
        try {
            outputDone.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "console output not drained within {0}", timeout);
        }
    }

    @Override
    public void close() {
        ConsoleSocket.closeQuietly(master);
        InputStream in = stdin;
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }
}
