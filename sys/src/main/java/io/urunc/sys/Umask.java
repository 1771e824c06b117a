package io.urunc.sys;

/** umask(2): the file mode creation mask of the whole process (it cannot fail). */
public final class Umask {
    private Umask() {}

    /** Sets the mask and returns the previous one. */
    public static int set(int mask) {
        return Libc.umask(mask);
    }
}
