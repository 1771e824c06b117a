package io.urunc.image;

import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import io.urunc.image.containerd.api.Container;
import io.urunc.image.containerd.api.ContainersProto;
import io.urunc.image.containerd.api.ContentProto;
import io.urunc.image.containerd.api.Descriptor;
import io.urunc.image.containerd.api.GetContainerRequest;
import io.urunc.image.containerd.api.GetContainerResponse;
import io.urunc.image.containerd.api.GetImageRequest;
import io.urunc.image.containerd.api.GetImageResponse;
import io.urunc.image.containerd.api.ImagesProto;
import io.urunc.image.containerd.api.ReadContentRequest;
import io.urunc.image.grpc.GrpcCode;
import io.urunc.image.grpc.GrpcException;
import io.urunc.image.grpc.UnaryGrpcClient;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads container labels, image manifest annotations and image config labels from containerd over its gRPC
 * socket (the shim's {@code -address}): Containers.Get, Images.Get, Content.Read. An index target is narrowed to the manifest
 * for linux and this machine's architecture. A missing container or image gives empty maps. Every call has a
 * short deadline. Open it only when needed (Create) and close it afterwards: it owns an event loop thread.
 */
public final class ContainerdGrpcMetadataSource implements ContainerdMetadataSource, AutoCloseable {
    private static final String CONTAINERS_GET = method(ContainersProto.getDescriptor(), "Containers", "Get");
    private static final String IMAGES_GET = method(ImagesProto.getDescriptor(), "Images", "Get");
    private static final String CONTENT_READ = method(ContentProto.getDescriptor(), "Content", "Read");
    private static final Set<String> INDEX_TYPES = Set.of(
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");
    /** An index, manifest or config of a real image is a few KiB; a hostile one may be huge. */
    private static final long MAX_BLOB_BYTES = 4 << 20;
    /** Content.Read's messages carry offsets besides the data; the blob limit itself is checked below. */
    private static final long MAX_READ_RESPONSE_BYTES = MAX_BLOB_BYTES + (64 << 10);

    private final Path socket;
    private final Duration deadline;
    private final UnaryGrpcClient client;
    private final ScannedContent scanned = new ScannedContent();

    public ContainerdGrpcMetadataSource(Path containerdSocket) {
        this(containerdSocket, Duration.ofSeconds(2));
    }

    public ContainerdGrpcMetadataSource(Path containerdSocket, Duration deadline) {
        this.socket = containerdSocket;
        this.deadline = deadline;
        this.client = new UnaryGrpcClient(containerdSocket);
    }

    @Override
    public Map<String, String> containerLabels(String namespace, String containerId) throws IOException {
        return container(namespace, containerId).map(Container::getLabelsMap).orElse(Map.of());
    }

    @Override
    public Map<String, String> imageManifestAnnotations(String namespace, String containerId) throws IOException {
        return manifest(namespace, containerId).map(ManifestScan::annotations).orElse(Map.of());
    }

    @Override
    public Map<String, String> imageConfigLabels(String namespace, String containerId) throws IOException {
        Optional<String> config = manifest(namespace, containerId).flatMap(ManifestScan::configDigest);
        if (config.isEmpty()) return Map.of();
        return readConfigLabels(namespace, config.get());
    }

    /** One Containers.Get, one Images.Get and the manifest and config reads, where asking for each map would repeat them. */
    @Override
    public Everything everything(String namespace, String containerId) throws IOException {
        Optional<Container> c = container(namespace, containerId);
        Map<String, String> labels = c.map(Container::getLabelsMap).orElse(Map.of());
        Optional<ManifestScan> manifest = manifest(namespace, c);
        Optional<String> config = manifest.flatMap(ManifestScan::configDigest);
        return new Everything(labels, manifest.map(ManifestScan::annotations).orElse(Map.of()),
                config.isEmpty() ? Map.of() : readConfigLabels(namespace, config.get()));
    }

    /** The manifest of the container's image for this platform; empty without container, image name or image. */
    private Optional<ManifestScan> manifest(String namespace, String containerId) throws IOException {
        return manifest(namespace, container(namespace, containerId));
    }

    private Optional<ManifestScan> manifest(String namespace, Optional<Container> c) throws IOException {
        if (c.isEmpty() || c.get().getImage().isEmpty()) return Optional.empty();
        String image = c.get().getImage();
        Descriptor target;
        try {
            byte[] response = client.unary(IMAGES_GET, namespaceHeader(namespace),
                    GetImageRequest.newBuilder().setName(image).build().toByteArray(), deadline);
            target = parse("Images.Get " + image, () -> GetImageResponse.parseFrom(response)).getImage().getTarget();
        } catch (GrpcException e) {
            if (e.code() == GrpcCode.NOT_FOUND) return Optional.empty();
            throw failure("Images.Get " + image, e);
        }
        ManifestScan manifest = readManifest(namespace, target.getDigest());
        if (INDEX_TYPES.contains(target.getMediaType()) || manifest.index()) {
            String digest = manifest.manifestFor()
                    .orElseThrow(() -> new IOException("image " + image + ": its index has no manifest for linux/" + hostArch()));
            manifest = readManifest(namespace, digest);
        }
        return Optional.of(manifest);
    }

    private Optional<Container> container(String namespace, String containerId) throws IOException {
        byte[] response;
        try {
            response = client.unary(CONTAINERS_GET, namespaceHeader(namespace),
                    GetContainerRequest.newBuilder().setId(containerId).build().toByteArray(), deadline);
        } catch (GrpcException e) {
            if (e.code() == GrpcCode.NOT_FOUND) return Optional.empty();
            throw failure("Containers.Get " + containerId, e);
        }
        return Optional.of(parse("Containers.Get " + containerId, () -> GetContainerResponse.parseFrom(response)).getContainer());
    }

    private ManifestScan readManifest(String namespace, String digest) throws IOException {
        return scanned.get(namespace, digest, "manifest", () -> readContent(namespace, digest, in -> ManifestScan.read(in, hostArch())),
                m -> ScannedContent.size(m.annotations()));
    }

    private Map<String, String> readConfigLabels(String namespace, String digest) throws IOException {
        return scanned.get(namespace, digest, "config", () -> readContent(namespace, digest, ManifestScan::configLabels),
                ScannedContent::size);
    }

    private interface Scan<T> {
        T scan(java.io.InputStream content) throws IOException;
    }

    /** A blob streamed and scanned, never held as a tree: only what the scan keeps ({@code com.urunc.} keys) stays. */
    private <T> T readContent(String namespace, String digest, Scan<T> scan) throws IOException {
        List<byte[]> messages;
        try {
            messages = client.serverStreaming(CONTENT_READ, namespaceHeader(namespace),
                    ReadContentRequest.newBuilder().setDigest(digest).build().toByteArray(), deadline, MAX_READ_RESPONSE_BYTES);
        } catch (GrpcException e) {
            if (e.code() == GrpcCode.RESOURCE_EXHAUSTED) {
                throw new IOException("content " + digest + " is larger than " + MAX_BLOB_BYTES + " bytes", e);
            }
            throw failure("Content.Read " + digest, e);
        }
        try (ContentStream content = new ContentStream(messages, digest, MAX_BLOB_BYTES)) {
            return scan.scan(content);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("content " + digest + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    static String hostArch() {
        return switch (System.getProperty("os.arch")) {
            case "aarch64" -> "arm64";
            case "x86_64", "amd64" -> "amd64";
            default -> System.getProperty("os.arch");
        };
    }

    private static Map<String, String> namespaceHeader(String namespace) {
        return Map.of("containerd-namespace", namespace);
    }

    private interface Parse<T> {
        T parse() throws InvalidProtocolBufferException;
    }

    private <T> T parse(String call, Parse<T> parser) throws IOException {
        try {
            return parser.parse();
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("containerd " + socket + ": " + call + ": malformed response: " + e.getMessage(), e);
        }
    }

    private IOException failure(String call, GrpcException e) {
        return new IOException("containerd " + socket + ": " + call + ": " + e.code()
                + (e.description().isEmpty() ? "" : " (" + e.description() + ")"), e);
    }

    /** "/package.Service/Method", checked against the .proto so a typo fails at class load, not at Create. */
    private static String method(Descriptors.FileDescriptor file, String service, String method) {
        Descriptors.ServiceDescriptor s = file.findServiceByName(service);
        if (s == null || s.findMethodByName(method) == null) {
            throw new IllegalStateException(file.getName() + " declares no " + service + "." + method);
        }
        return "/" + s.getFullName() + "/" + method;
    }

    @Override
    public void close() {
        client.close();
    }
}
