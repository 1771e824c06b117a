package io.urunc.network;

import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * For tests only (the daemon never changes namespace on a thread, see {@link io.urunc.sys.HostNamespaces}):
 * runs tasks on one dedicated platform thread that has joined a network namespace, e.g. to open a tap there.
 *
 * <p>{@code setns(CLONE_NEWNET)} changes the namespace of the calling OS thread only, so the rest of the
 * daemon stays where it is. A child started with {@link ProcessBuilder} from that thread is created in the
 * thread's namespace: this is how the VMM and the {@code ip}/{@code tc} commands are run inside the
 * container's netns without {@code ip netns exec}. The thread moves back to its original namespace when
 * the executor is closed (and is then discarded anyway, so a failed return cannot leak into other work).
 * Tasks run one at a time, in submission order.
 */
public final class NetnsExecutor implements AutoCloseable {
    private static final Runnable STOP = () -> {};

    private final Path netns;
    private final Thread thread;
    private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Object lock = new Object();
    private boolean closed;

    private NetnsExecutor(Path netns, Thread.Builder.OfPlatform builder, CompletableFuture<Void> joined) {
        this.netns = netns;
        this.thread = builder.unstarted(() -> runLoop(joined));
    }

    /**
     * Starts a thread that joins {@code netns} (a path such as {@code /var/run/netns/x} or
     * {@code /proc/<pid>/ns/net}); fails if the path is missing or is not a network namespace.
     */
    public static NetnsExecutor open(Path netns) throws NetworkException {
        Objects.requireNonNull(netns, "netns");
        if (!Files.exists(netns)) {
            throw new NetworkException("network namespace " + netns + " does not exist");
        }
        CompletableFuture<Void> joined = new CompletableFuture<>();
        NetnsExecutor executor = new NetnsExecutor(netns,
                Thread.ofPlatform().daemon().name("netns-" + netns.getFileName()), joined);
        executor.thread.start();
        try {
            joined.get();
        } catch (ExecutionException e) {
            throw new NetworkException("cannot join network namespace " + netns + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.close();
            throw new NetworkException("interrupted while joining network namespace " + netns, e);
        }
        return executor;
    }

    /** Runs {@code task} once on a fresh thread inside {@code netns}; exceptions of the task pass through. */
    public static <T> T callIn(Path netns, Callable<T> task) throws Exception {
        try (NetnsExecutor executor = open(netns)) {
            return executor.call(task);
        }
    }

    public Path netns() {
        return netns;
    }

    /** Runs {@code task} on the namespace thread and waits for it; the task's exception is rethrown as is. */
    public <T> T call(Callable<T> task) throws Exception {
        if (Thread.currentThread() == thread) {
            return task.call();
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        synchronized (lock) {
            // STOP is queued under the same lock, so every accepted task runs before the thread ends
            if (closed || !thread.isAlive()) {
                throw new IllegalStateException("executor for " + netns + " is closed");
            }
            queue.add(() -> {
                try {
                    result.complete(task.call());
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        }
        try {
            return result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) throw ex;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
    }

    private void runLoop(CompletableFuture<Void> joined) {
        int original;
        try {
            original = Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        } catch (SysException e) {
            joined.completeExceptionally(e);
            return;
        }
        try {
            try {
                enter(netns.toString());
            } catch (SysException e) {
                joined.completeExceptionally(e);
                return;
            }
            joined.complete(null);
            while (true) {
                Runnable next = queue.take();
                if (next == STOP) break;
                next.run();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                Libc.setns(original, Libc.CLONE_NEWNET);
            } catch (SysException ignored) {
                // the thread ends right after this: nothing else can run in the wrong namespace
            }
            Libc.close(original);
        }
    }

    private static void enter(String path) throws SysException {
        int fd = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        try {
            Libc.setns(fd, Libc.CLONE_NEWNET);
        } finally {
            Libc.close(fd);
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) return;
            closed = true;
            queue.add(STOP);
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
