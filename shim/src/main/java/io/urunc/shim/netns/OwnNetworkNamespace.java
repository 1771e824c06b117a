package io.urunc.shim.netns;

import io.urunc.network.NetnsExecutor;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A network namespace the shim creates for a task whose spec asks for a new one (docker does: its
 * prestart hook then moves the container's veth into it). Kept alive by a bind mount on a file, like
 * {@code ip netns add}, so that it outlives the thread that created it.
 */
public final class OwnNetworkNamespace {
    private OwnNetworkNamespace() {}

    /** Creates the namespace pinned at {@code file}, with loopback up. */
    public static Path create(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        if (!Files.exists(file)) Files.createFile(file);
        CompletableFuture<Void> done = new CompletableFuture<>();
        // unshare and setns act on the calling OS thread: a throwaway platform thread does it.
        Thread t = Thread.ofPlatform().name("netns-create").start(() -> {
            int original = -1;
            try {
                original = Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
                Libc.unshare(Libc.CLONE_NEWNET);
                try {
                    Libc.mount("/proc/thread-self/ns/net", file.toString(), null, Libc.MS_BIND, null);
                } finally {
                    Libc.setns(original, Libc.CLONE_NEWNET);
                }
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            } finally {
                if (original >= 0) Libc.close(original);
            }
        });
        try {
            done.get();
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating a network namespace");
        } catch (ExecutionException e) {
            Files.deleteIfExists(file);
            throw new IOException("cannot create a network namespace at " + file + ": " + e.getCause().getMessage(), e.getCause());
        }
        try {
            NetnsExecutor.callIn(file, () -> {
                Process p = new ProcessBuilder("ip", "link", "set", "lo", "up").redirectErrorStream(true).start();
                if (p.waitFor() != 0) throw new IOException("ip link set lo up: " + new String(p.getInputStream().readAllBytes()));
                return null;
            });
        } catch (Exception e) {
            remove(file);
            throw new IOException("cannot bring up loopback in " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /** Unpins and removes the namespace file; idempotent. */
    public static void remove(Path file) {
        try {
            Libc.umount2(file.toString(), Libc.MNT_DETACH);
        } catch (SysException ignored) {
            // not mounted (any more)
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort: an unmounted empty file is harmless
        }
    }
}
