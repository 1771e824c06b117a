package io.urunc.shim;

import io.urunc.image.ContainerdMetadataSource;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.task.TaskStore;
import io.urunc.sys.Libc;
import io.urunc.vmm.qemu.QmpClient;

import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;

/**
 * What a daemon's start and its first Create would otherwise pay for on their way, done beside them from the moment the
 * daemon's JVM runs Main (containerd sends the first Create a few ms after the daemon's READY, and without this the
 * Create took ~100 ms more than later ones): the connection to containerd's gRPC socket and the reads of the first
 * task's container, image index, manifest and config (the manifest and config stay in the client's digest cache, so
 * the Create asks only for the container and the image; Netty's epoll transport, which the daemon's ttrpc server
 * needs too, is loaded on the way), the two FFM downcall shapes every native call goes through (binding one
 * generates classes an AOT cache cannot hold: io.urunc.sys.NativeCalls), the task record's JSON writer, the
 * bundle's reader and QMP's JSON. Two threads: the containerd reads wait on containerd, the rest is CPU. Nothing
 * here changes what the daemon or a Create does, only when the one-time costs are paid; a failure (no containerd
 * yet, a container already gone) costs nothing but the time the daemon would have spent anyway.
 */
final class DaemonWarmUp {
    private static final System.Logger LOG = System.getLogger(DaemonWarmUp.class.getName());

    /** Each part's outcome: whether the containerd reads answered, and the local part's end. */
    record Parts(CompletableFuture<Boolean> containerd, CompletableFuture<Void> local) {}

    private DaemonWarmUp() {}

    /** {@code containerd} may be null (no containerd address), {@code firstTask} empty: that part is then skipped. */
    static Parts start(ContainerdMetadataSource containerd, String namespace, String firstTask) {
        CompletableFuture<Boolean> read = new CompletableFuture<>();
        if (containerd == null || firstTask.isEmpty()) {
            read.complete(false);
        } else {
            Thread.ofPlatform().daemon().name("warm-up containerd").start(() -> {
                long t0 = System.nanoTime();
                try {
                    containerd.everything(namespace, firstTask);
                    LOG.log(Level.DEBUG, "warm-up: containerd read for task {0} in {1} ms", firstTask, since(t0));
                    read.complete(true);
                } catch (Exception | LinkageError e) {
                    LOG.log(Level.DEBUG, "warm-up: containerd read for task {0} failed: {1}", firstTask, e.toString());
                    read.complete(false);
                }
            });
        }
        CompletableFuture<Void> local = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("warm-up").start(() -> {
            long t0 = System.nanoTime();
            try {
                // in the order the daemon needs them: to start serving, then for a Create
                Libc.bind();
                TaskStore.prepareWriter();
                Bundle.prepareReader();
                QmpClient.prepare();
                LOG.log(Level.DEBUG, "warm-up: downcalls, record writer, bundle and QMP JSON in {0} ms", since(t0));
                local.complete(null);
            } catch (RuntimeException | LinkageError e) {
                LOG.log(Level.DEBUG, "warm-up: {0}", e.toString());
                local.completeExceptionally(e);
            }
        });
        return new Parts(read, local);
    }

    private static long since(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
