package io.urunc.shim;

import io.urunc.shim.config.ShimConfig;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Map;

/**
 * Where the daemon serving a task listens, and its files. The same inputs give the same daemon, so
 * {@code start} for the second task of a group finds the first one's daemon. The shell launcher
 * (bin/containerd-shim-urunc-v2) computes the same hash: keep the two in step.
 */
public record DaemonAddress(String key, Path socket, Path stateDir) {
    public static final String SANDBOX_ID = "io.kubernetes.cri.sandbox-id";
    public static final String SOCKET_DIR = "/run/containerd/s";

    /** The group a task belongs to under the configured grouping. */
    public static String group(ShimConfig.Grouping grouping, String taskId, Map<String, String> annotations) {
        return switch (grouping) {
            case NAMESPACE -> "";
            case POD -> annotations.getOrDefault(SANDBOX_ID, taskId);
            case CONTAINER -> taskId;
        };
    }

    public static DaemonAddress of(String containerdAddress, String namespace, String group, Path stateDir) {
        String hex = sha256("urunc|" + containerdAddress + "|" + namespace + "|" + group);
        return new DaemonAddress(hex, Path.of(SOCKET_DIR, hex), stateDir);
    }

    public String uri() {
        return "unix://" + socket;
    }

    /**
     * The daemon whose {@link #uri} this is ({@code start} writes it into the bundle's {@code address}); empty for any
     * other address: only a socket {@link #of} names (64 hex digits in {@value #SOCKET_DIR}) is one of ours.
     */
    public static Optional<DaemonAddress> fromUri(String uri, Path stateDir) {
        if (!uri.startsWith("unix://")) return Optional.empty();
        Path socket = Path.of(uri.substring("unix://".length()));
        String key = socket.getFileName() == null ? "" : socket.getFileName().toString();
        if (!Path.of(SOCKET_DIR).equals(socket.getParent()) || !key.matches("[0-9a-f]{64}")) return Optional.empty();
        return Optional.of(new DaemonAddress(key, socket, stateDir));
    }

    public Path pidFile() {
        return stateDir.resolve("d").resolve(key + ".pid");
    }

    /** Touched by every start that wants this daemon: a daemon about to exit for idleness stays. */
    public Path wantedFile() {
        return stateDir.resolve("d").resolve(key + ".wanted");
    }

    public Path lockFile() {
        return stateDir.resolve("d").resolve(key + ".lock");
    }

    /**
     * Takes the group's lock, held until closed: {@code start} looking for the daemon, a daemon checking and binding
     * its socket, an idle daemon leaving and {@code delete} removing a dead daemon's socket decide under it.
     */
    public GroupLock lockGroup() throws IOException {
        FileChannel channel = FileChannel.open(lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            channel.lock();
            return new GroupLock(channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The held group lock; closing it releases it. */
    public record GroupLock(FileChannel channel) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    public Path logFile() {
        return stateDir.resolve("log").resolve(key.substring(0, 16) + ".log");
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
