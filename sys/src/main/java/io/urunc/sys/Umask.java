package io.urunc.sys;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** umask(2): the file mode creation mask of the whole process (it cannot fail). */
public final class Umask {
    private static final MethodHandle UMASK = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("umask").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private Umask() {}

    /** Sets the mask and returns the previous one. */
    public static int set(int mask) {
        try {
            return (int) UMASK.invokeExact(mask);
        } catch (Throwable t) {
            throw new IllegalStateException("umask", t);
        }
    }
}
