package io.urunc.shim.runc;

import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

/**
 * Clears O_NONBLOCK on a file descriptor (fcntl). runc is written in Go, whose runtime leaves the pty
 * master it sends us non-blocking; our copy threads want plain blocking reads.
 */
final class Blocking {
    private static final int F_GETFL = 3, F_SETFL = 4;

    private Blocking() {}

    static void set(int fd) throws SysException {
        int flags = Libc.fcntl(fd, F_GETFL, 0);
        if ((flags & Libc.O_NONBLOCK) != 0) Libc.fcntl(fd, F_SETFL, flags & ~Libc.O_NONBLOCK);
    }
}
