package io.urunc.vmm;

import java.io.IOException;

/** Live control of a running VM (QMP for QEMU). */
public interface VmControl extends AutoCloseable {
    void pause() throws IOException;

    void resume() throws IOException;

    /** Asks the guest to shut down (ACPI power button); the guest decides whether and when. */
    void powerdown() throws IOException;

    /** Checks that the control channel answers (connecting if needed): the VMM is up. */
    default void ping() throws IOException {}

    /** Stops the VMM at once, without asking the guest. */
    default void quit() throws IOException { throw new IOException("quit is not supported by this VMM"); }

    /**
     * Why the guest stopped, as the VMM reported it just before exiting (QEMU: the reason of its SHUTDOWN event,
     * e.g. "guest-shutdown", "guest-reset", "guest-panic", "host-signal"); empty if it said nothing. Waits up to {@code wait} for
     * the VMM's last words: call once the VMM has exited.
     */
    default java.util.Optional<String> stopReason(java.time.Duration wait) { return java.util.Optional.empty(); }

    @Override
    void close();
}
