package io.urunc.storage;

import io.urunc.sys.Errno;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A loop device over a file system image, for a rootfs mount with the {@code loop} option (containerd's blockfile
 * snapshotter). It is configured with autoclear: the kernel detaches it once its last user is gone, so after the
 * file system mounted from it is unmounted and {@link #close} ran, nothing of it is left, whoever unmounts (also
 * {@code shim delete} after a crash).
 */
final class LoopDevice implements AutoCloseable {
    private static final long LOOP_CTL_GET_FREE = 0x4C82, LOOP_CONFIGURE = 0x4C0A;
    private static final int LO_FLAGS_READ_ONLY = 1, LO_FLAGS_AUTOCLEAR = 4;
    /** struct loop_config: u32 fd, u32 block_size, struct loop_info64 (232 bytes, lo_flags at 52), u64 reserved[8]. */
    private static final int CONFIG_SIZE = 304, CONFIG_FLAGS = 8 + 52;

    private final Path device;
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private LoopDevice(Path device, int fd) {
        this.device = device;
        this.fd = fd;
    }

    /** A free loop device bound to {@code image}, read-only when {@code readOnly}. */
    static LoopDevice attach(Path image, boolean readOnly) throws IOException {
        int mode = (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC;
        int backing;
        try {
            backing = Libc.open(image.toString(), mode | Libc.O_NOCTTY, 0);
        } catch (SysException e) {
            throw new IOException("cannot open the file system image " + image + ": " + e.getMessage(), e);
        }
        try {
            // another process may take the free device between the two calls: then ask again
            for (int attempt = 0; ; attempt++) {
                int n = getFree();
                Path device = Path.of("/dev/loop" + n);
                int fd;
                try {
                    fd = Libc.open(device.toString(), mode, 0);
                } catch (SysException e) {
                    throw new IOException("cannot open " + device + " for " + image + ": " + e.getMessage(), e);
                }
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment config = Libc.zeroed(a, CONFIG_SIZE);
                    config.set(JAVA_INT, 0, backing);
                    config.set(JAVA_INT, CONFIG_FLAGS, LO_FLAGS_AUTOCLEAR | (readOnly ? LO_FLAGS_READ_ONLY : 0));
                    Libc.ioctl(fd, LOOP_CONFIGURE, config);
                    return new LoopDevice(device, fd);
                } catch (SysException e) {
                    Libc.close(fd);
                    if (e.errno() != Errno.EBUSY || attempt >= 16)
                        throw new IOException("cannot bind " + device + " to " + image + ": " + e.getMessage(), e);
                }
            }
        } finally {
            Libc.close(backing);
        }
    }

    private static int getFree() throws IOException {
        int control;
        try {
            control = Libc.open("/dev/loop-control", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        } catch (SysException e) {
            throw new IOException("cannot open /dev/loop-control (no loop device support?): " + e.getMessage(), e);
        }
        try {
            return Libc.ioctl(control, LOOP_CTL_GET_FREE, MemorySegment.NULL);
        } catch (SysException e) {
            throw new IOException("no free loop device: " + e.getMessage(), e);
        } finally {
            Libc.close(control);
        }
    }

    Path device() {
        return device;
    }

    /** Drops this process's hold: the device goes as soon as nothing is mounted from it. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) Libc.close(fd);
    }
}
