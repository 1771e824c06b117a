package io.urunc.sys;

import java.io.IOException;

/** A failed system call: names the call, its subject and the errno. */
public final class SysException extends IOException {
    private final int errno;

    public SysException(String call, int errno) {
        super(call + ": " + Errno.describe(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
