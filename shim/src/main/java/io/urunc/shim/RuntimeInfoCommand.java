package io.urunc.shim;

import io.urunc.proto.types.RuntimeInfo;
import io.urunc.proto.types.RuntimeVersion;

/**
 * {@code containerd-shim-urunc-v2 -info}: the {@code containerd.types.RuntimeInfo} containerd 2.x reads
 * at task Create. The mount types declared here are the ones {@link io.urunc.storage.RootfsMount} mounts
 * itself; containerd's mount manager (2.2+) activates any other kind and hands the shim plain mounts.
 *
 * <p>The launcher answers {@code -info} without a JVM with a copy of these bytes; a unit test keeps the two
 * equal, and {@link #printfFormat} gives the launcher's string when this changes.
 */
public final class RuntimeInfoCommand {
    static final String RUNTIME_NAME = "io.containerd.urunc.v2";
    static final String ALLOW_MOUNTS = "containerd.io/runtime-allow-mounts";

    private RuntimeInfoCommand() {}

    public static RuntimeInfo info() {
        return RuntimeInfo.newBuilder()
                .setName(RUNTIME_NAME)
                .setVersion(RuntimeVersion.newBuilder().setVersion(Main.VERSION))
                .putAnnotations(ALLOW_MOUNTS, "bind,overlay")
                .build();
    }

    /** The bytes as a printf(1) format of octal escapes, as the launcher writes them. */
    static String printfFormat(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) sb.append(String.format("\\%03o", b & 0xff));
        return sb.toString();
    }

    /** Regenerates the launcher's string: {@code java -cp ... io.urunc.shim.RuntimeInfoCommand}. */
    public static void main(String[] args) {
        System.out.println(printfFormat(info().toByteArray()));
    }
}
