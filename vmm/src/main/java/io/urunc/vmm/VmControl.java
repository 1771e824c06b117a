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

    @Override
    void close();
}
