package io.urunc.shim.io;

import io.urunc.sys.Libc;
import java.lang.System.Logger.Level;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A task's stdio as containerd hands it over: FIFO paths (or {@code file://} URIs), any of them empty.
 * The VMM's stdin and stdout are wired straight to the FIFOs (no copying in the shim); its stderr goes
 * through the shim so that a VMM's error text can be reported when it fails to start.
 *
 * <p>FIFOs are opened O_RDWR first: that never blocks, whether or not the client has its end open, and
 * it keeps the FIFO usable if the client goes away and comes back (as containerd's runc shim does).
 */
public final class TaskIo implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TaskIo.class.getName());
    private static final int TAIL_BYTES = 4096;

    private final String stdin, stdout, stderr;
    private final List<Integer> heldFds = new ArrayList<>();
    private final List<Integer> outputFds = new ArrayList<>();
    private Integer stdinFd;
    private final Redirect stdinRedirect;
    private final Redirect stdoutRedirect;
    private final File stderrTarget;
    private final byte[] tail = new byte[TAIL_BYTES];
    private int tailLength;

    private TaskIo(String stdin, String stdout, String stderr) throws IOException {
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        try {
            if (stdin.isEmpty()) {
                stdinRedirect = Redirect.from(new File("/dev/null"));
            } else {
                stdinFd = hold(stdin, "stdin");
                stdinRedirect = Redirect.from(procFd(stdinFd));
            }
            stdoutRedirect = stdout.isEmpty() ? Redirect.DISCARD : Redirect.appendTo(target(stdout, "stdout"));
            stderrTarget = stderr.isEmpty() ? null : target(stderr, "stderr");
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public static TaskIo open(String stdin, String stdout, String stderr) throws IOException {
        return new TaskIo(nullToEmpty(stdin), nullToEmpty(stdout), nullToEmpty(stderr));
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    public Redirect stdinRedirect() {
        return stdinRedirect;
    }

    public Redirect stdoutRedirect() {
        return stdoutRedirect;
    }

    /** The task's stderr for a process that writes it directly (a runc container's init); discarded if none. */
    public Redirect stderrRedirect() {
        return stderrTarget == null ? Redirect.DISCARD : Redirect.appendTo(stderrTarget);
    }

    public String stdinPath() {
        return stdin;
    }

    public String stdoutPath() {
        return stdout;
    }

    public String stderrPath() {
        return stderr;
    }

    /**
     * Copies the VMM's stderr to the task's stderr until EOF, remembering the last bytes for errors. On a platform
     * thread of its own: a read of a pipe (or a write to a FIFO nobody reads) blocks in the kernel, and on a virtual
     * thread it would hold one of the few carrier threads every task's requests run on (two such pumps stalled a
     * 2-core daemon entirely).
     */
    public void pumpStderr(InputStream vmmStderr) {
        Thread.ofPlatform().daemon().stackSize(128 * 1024).name("stderr-pump").start(() -> {
            try (InputStream in = vmmStderr; OutputStream out = stderrTarget == null ? null
                    : new FileOutputStream(stderrTarget, true)) {
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) > 0) {
                    remember(buf, n);
                    if (out != null) {
                        try {
                            out.write(buf, 0, n);
                        } catch (IOException e) {
                            LOG.log(Level.DEBUG, "stderr of task not written: {0}", e.getMessage());
                        }
                    }
                }
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "stderr pump ended: {0}", e.getMessage());
            }
        });
    }

    private synchronized void remember(byte[] buf, int n) {
        if (n >= TAIL_BYTES) {
            System.arraycopy(buf, n - TAIL_BYTES, tail, 0, TAIL_BYTES);
            tailLength = TAIL_BYTES;
            return;
        }
        int keep = Math.min(tailLength, TAIL_BYTES - n);
        System.arraycopy(tail, tailLength - keep, tail, 0, keep);
        System.arraycopy(buf, 0, tail, keep, n);
        tailLength = keep + n;
    }

    /** The last lines the VMM wrote to stderr, trimmed: the reason it failed, usually. */
    public synchronized String stderrTail() {
        return new String(tail, 0, tailLength, StandardCharsets.UTF_8).strip();
    }

    /** CloseIO: the client closed stdin. The VMM keeps its own end; we drop ours. */
    public synchronized void closeStdin() {
        if (stdinFd != null) {
            Libc.close(stdinFd);
            heldFds.remove(stdinFd);
            stdinFd = null;
        }
    }

    /**
     * The process's output has ended: drop our ends of the stdout/stderr FIFOs, so the reader sees EOF once
     * it has read what is buffered (containerd's client waits for that EOF before it sends Delete). Writers
     * that still have a FIFO open (the stderr pump copying the last bytes) keep it open until they are done.
     */
    public synchronized void closeOutputs() {
        for (Integer fd : outputFds) {
            Libc.close(fd);
            heldFds.remove(fd);
        }
        outputFds.clear();
    }

    private File target(String uriOrPath, String stream) throws IOException {
        String path = pathOf(uriOrPath, stream);
        if (uriOrPath.startsWith("file://")) return new File(path);
        int fd = hold(path, stream);
        outputFds.add(fd);
        return procFd(fd);
    }

    private int hold(String uriOrPath, String stream) throws IOException {
        String path = pathOf(uriOrPath, stream);
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        heldFds.add(fd);
        return fd;
    }

    private static String pathOf(String uriOrPath, String stream) throws IOException {
        if (uriOrPath.startsWith("/")) return uriOrPath;
        URI uri;
        try {
            uri = URI.create(uriOrPath);
        } catch (IllegalArgumentException e) {
            throw new IOException(stream + ": not a path or URI: " + uriOrPath);
        }
        return switch (uri.getScheme() == null ? "" : uri.getScheme()) {
            case "fifo", "file" -> uri.getPath();
            case "binary" -> throw new IOException(stream + ": binary:// logging drivers are not supported: "
                    + uriOrPath);
            default -> throw new IOException(stream + ": unsupported URI scheme: " + uriOrPath);
        };
    }

    private static File procFd(int fd) {
        return new File("/proc/self/fd/" + fd);
    }

    @Override
    public synchronized void close() {
        for (int fd : heldFds) Libc.close(fd);
        heldFds.clear();
        outputFds.clear();
        stdinFd = null;
    }
}
