package io.urunc.shim.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child's output read as it comes, so the child never blocks on a full pipe (64 KiB), with only its last bytes
 * kept for an error message: a chatty child can neither stall its parent nor fill the daemon's memory.
 */
public final class DrainedOutput {
    private final byte[] tail;
    private int length;
    private long dropped;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    private DrainedOutput(int keepBytes) {
        this.tail = new byte[keepBytes];
    }

    /** Starts reading {@code in} to its end on a virtual thread, keeping the last {@code keepBytes}. */
    public static DrainedOutput start(InputStream in, int keepBytes) {
        DrainedOutput out = new DrainedOutput(keepBytes);
        Thread.ofVirtual().name("output-drain").start(() -> {
            try (in) {
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) > 0) out.keep(buf, n);
            } catch (IOException e) {
                // the child is gone: what was read is what there is
            } finally {
                out.done.complete(null);
            }
        });
        return out;
    }

    private synchronized void keep(byte[] buf, int n) {
        int overflow = length + n - tail.length;
        if (overflow > 0) {
            int shift = Math.min(overflow, length);
            System.arraycopy(tail, shift, tail, 0, length - shift);
            length -= shift;
            dropped += shift;
        }
        int skip = Math.max(0, n - tail.length);
        dropped += skip;
        System.arraycopy(buf, skip, tail, length, n - skip);
        length += n - skip;
    }

    /** The kept output, once the child closed it (waiting at most {@code wait}), trimmed. */
    public String text(Duration wait) {
        try {
            done.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // still open (a grandchild holds it): report what came so far
        }
        synchronized (this) {
            String text = new String(tail, 0, length, StandardCharsets.UTF_8).strip();
            return dropped == 0 ? text : "[" + dropped + " earlier bytes not shown] " + text;
        }
    }
}
