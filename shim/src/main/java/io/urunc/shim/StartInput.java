package io.urunc.shim;

import com.google.protobuf.InvalidProtocolBufferException;
import io.urunc.proto.bootstrap.BootstrapParams;
import io.urunc.proto.bootstrap.LogLevel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What containerd writes on {@code start}'s stdin: nothing, the runtime options as a
 * {@code google.protobuf.Any} (before 2.3), or a {@code BootstrapParams} (2.3+). The shim has no runtime
 * options of its own, so only BootstrapParams matter: they fill in flags a newer containerd may stop passing.
 *
 * <p>Both are protobuf and an Any parses as a BootstrapParams (its type URL and value land in fields 1 and
 * 2), so a message counts as BootstrapParams only when it has a field an Any cannot have (3 and up).
 */
final class StartInput {
    /** Options and bootstrap parameters are a few hundred bytes. */
    static final int MAX_BYTES = 1 << 20;

    private StartInput() {}

    static Optional<BootstrapParams> bootstrapParams(byte[] stdin) {
        if (stdin.length == 0) return Optional.empty();
        BootstrapParams p;
        try {
            p = BootstrapParams.parseFrom(stdin);
        } catch (InvalidProtocolBufferException e) {
            return Optional.empty();
        }
        boolean onlyAnyFields = p.getLogLevelValue() == 0 && p.getContainerdVersion().isEmpty()
                && p.getContainerdTtrpcAddress().isEmpty() && p.getContainerdGrpcAddress().isEmpty()
                && p.getContainerdBinary().isEmpty() && p.getExtensionsCount() == 0 && !p.hasSocketDir();
        return onlyAnyFields ? Optional.empty() : Optional.of(p);
    }

    /** The flags, with what BootstrapParams say wherever a flag is missing. */
    static ShimArgs apply(ShimArgs args, Optional<BootstrapParams> params) {
        if (params.isEmpty()) return args;
        BootstrapParams p = params.get();
        return new ShimArgs(
                args.namespace().isEmpty() ? p.getNamespace() : args.namespace(),
                args.address().isEmpty() ? p.getContainerdGrpcAddress() : args.address(),
                args.publishBinary().isEmpty() ? p.getContainerdBinary() : args.publishBinary(),
                args.id().isEmpty() ? p.getInstanceId() : args.id(),
                args.bundle(),
                args.debug() || p.getLogLevelValue() <= LogLevel.LOG_LEVEL_DEBUG_VALUE,
                args.version(), args.info(), args.socket(), args.action());
    }

    /** Reads stdin up to {@link #MAX_BYTES}; a terminal (a person trying the binary) is not read. */
    static byte[] read(InputStream in) throws IOException {
        try {
            String fd0 = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
            if (fd0.startsWith("/dev/pts/") || fd0.startsWith("/dev/tty")) return new byte[0];
        } catch (IOException | UnsupportedOperationException e) {
            // no /proc: read as usual
        }
        return in.readNBytes(MAX_BYTES);
    }
}
