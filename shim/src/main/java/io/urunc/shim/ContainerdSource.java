package io.urunc.shim;

import io.urunc.image.ContainerdGrpcMetadataSource;
import io.urunc.image.ContainerdMetadataSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * containerd's view of a container (its labels, its image's manifest annotations), reached over
 * containerd's gRPC socket, opened on first use (a daemon's {@link DaemonWarmUp} makes that use at once).
 */
final class ContainerdSource implements ContainerdMetadataSource {
    private final Path socket;
    private ContainerdGrpcMetadataSource delegate;

    private ContainerdSource(Path socket) {
        this.socket = socket;
    }

    static ContainerdMetadataSource forAddress(String address) {
        if (address == null || address.isEmpty()) return null;
        return new ContainerdSource(Path.of(Daemon.stripUnix(address)));
    }

    private synchronized ContainerdGrpcMetadataSource delegate() throws IOException {
        if (!Files.exists(socket)) throw new IOException(socket + ": containerd socket not found");
        if (delegate == null) delegate = new ContainerdGrpcMetadataSource(socket);
        return delegate;
    }

    @Override
    public Map<String, String> containerLabels(String namespace, String containerId) throws IOException {
        return delegate().containerLabels(namespace, containerId);
    }

    @Override
    public Map<String, String> imageManifestAnnotations(String namespace, String containerId) throws IOException {
        return delegate().imageManifestAnnotations(namespace, containerId);
    }

    @Override
    public Everything everything(String namespace, String containerId) throws IOException {
        return delegate().everything(namespace, containerId);
    }

    @Override
    public Map<String, String> imageConfigLabels(String namespace, String containerId) throws IOException {
        return delegate().imageConfigLabels(namespace, containerId);
    }
}
