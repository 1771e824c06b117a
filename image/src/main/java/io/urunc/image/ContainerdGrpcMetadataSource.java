package io.urunc.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.urunc.image.containerd.api.Container;
import io.urunc.image.containerd.api.ContainersGrpc;
import io.urunc.image.containerd.api.ContentGrpc;
import io.urunc.image.containerd.api.Descriptor;
import io.urunc.image.containerd.api.GetContainerRequest;
import io.urunc.image.containerd.api.GetImageRequest;
import io.urunc.image.containerd.api.ImagesGrpc;
import io.urunc.image.containerd.api.ReadContentRequest;
import io.urunc.image.containerd.api.ReadContentResponse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Reads container labels and image manifest annotations from containerd over its gRPC socket (the shim's
 * {@code -address}): Containers.Get, Images.Get, Content.Read. An index target is narrowed to the manifest
 * for linux and this machine's architecture. A missing container or image gives empty maps. Every call has a
 * short deadline. Open it only when needed (Create) and close it afterwards: it owns an event loop thread.
 */
public final class ContainerdGrpcMetadataSource implements ContainerdMetadataSource, AutoCloseable {
    private static final Metadata.Key<String> NAMESPACE_HEADER =
            Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);
    private static final Set<String> INDEX_TYPES = Set.of(
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");
    private static final long MAX_BLOB_BYTES = 4 << 20;

    private final Path socket;
    private final Duration deadline;
    private final EventLoopGroup group;
    private final ManagedChannel channel;

    public ContainerdGrpcMetadataSource(Path containerdSocket) {
        this(containerdSocket, Duration.ofSeconds(2));
    }

    public ContainerdGrpcMetadataSource(Path containerdSocket, Duration deadline) {
        this.socket = containerdSocket;
        this.deadline = deadline;
        this.group = new EpollEventLoopGroup(1);
        this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(containerdSocket.toString()))
                .eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class)
                .usePlaintext()
                .build();
    }

    @Override
    public Map<String, String> containerLabels(String namespace, String containerId) throws IOException {
        return container(namespace, containerId).map(Container::getLabelsMap).orElse(Map.of());
    }

    @Override
    public Map<String, String> imageManifestAnnotations(String namespace, String containerId) throws IOException {
        Optional<Container> c = container(namespace, containerId);
        if (c.isEmpty() || c.get().getImage().isEmpty()) return Map.of();
        String image = c.get().getImage();
        Descriptor target;
        try {
            target = stub(ImagesGrpc.newBlockingStub(channel), namespace)
                    .get(GetImageRequest.newBuilder().setName(image).build()).getImage().getTarget();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) return Map.of();
            throw failure("Images.Get " + image, e);
        }
        JsonNode manifest = readJson(namespace, target.getDigest());
        if (INDEX_TYPES.contains(target.getMediaType()) || manifest.has("manifests")) {
            String digest = pickPlatformManifest(manifest)
                    .orElseThrow(() -> new IOException("image " + image + ": its index has no manifest for linux/" + hostArch()));
            manifest = readJson(namespace, digest);
        }
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode annotations = manifest.path("annotations");
        annotations.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private Optional<Container> container(String namespace, String containerId) throws IOException {
        try {
            return Optional.of(stub(ContainersGrpc.newBlockingStub(channel), namespace)
                    .get(GetContainerRequest.newBuilder().setId(containerId).build()).getContainer());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) return Optional.empty();
            throw failure("Containers.Get " + containerId, e);
        }
    }

    private JsonNode readJson(String namespace, String digest) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            Iterator<ReadContentResponse> it = stub(ContentGrpc.newBlockingStub(channel), namespace)
                    .read(ReadContentRequest.newBuilder().setDigest(digest).build());
            while (it.hasNext()) {
                it.next().getData().writeTo(buf);
                if (buf.size() > MAX_BLOB_BYTES) throw new IOException("content " + digest + " is larger than " + MAX_BLOB_BYTES + " bytes");
            }
        } catch (StatusRuntimeException e) {
            throw failure("Content.Read " + digest, e);
        }
        return new ObjectMapper().readTree(buf.toByteArray());
    }

    static Optional<String> pickPlatformManifest(JsonNode index) {
        String arch = hostArch();
        for (JsonNode m : index.path("manifests")) {
            JsonNode p = m.path("platform");
            if ("linux".equals(p.path("os").asText()) && arch.equals(p.path("architecture").asText())) {
                return Optional.of(m.path("digest").asText());
            }
        }
        JsonNode all = index.path("manifests");
        // an index without platforms (what single-image tools write) has one manifest: take it
        if (all.size() == 1 && all.get(0).path("platform").isMissingNode()) return Optional.of(all.get(0).path("digest").asText());
        return Optional.empty();
    }

    static String hostArch() {
        return switch (System.getProperty("os.arch")) {
            case "aarch64" -> "arm64";
            case "x86_64", "amd64" -> "amd64";
            default -> System.getProperty("os.arch");
        };
    }

    private <S extends AbstractStub<S>> S stub(S s, String namespace) {
        Metadata headers = new Metadata();
        headers.put(NAMESPACE_HEADER, namespace);
        return s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private IOException failure(String call, StatusRuntimeException e) {
        return new IOException("containerd " + socket + ": " + call + ": " + e.getStatus().getCode()
                + (e.getStatus().getDescription() == null ? "" : " (" + e.getStatus().getDescription() + ")"), e);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
