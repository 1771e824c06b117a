package io.urunc.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import io.urunc.image.containerd.api.ReadContentResponse;
import io.urunc.image.grpc.GrpcCode;
import io.urunc.image.grpc.GrpcException;
import io.urunc.image.grpc.UnaryGrpcClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
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
    private static final String URUNC_PREFIX = "com.urunc.";
    /** Content.Read's messages carry offsets besides the data; the blob limit itself is checked below. */
    private static final long MAX_READ_RESPONSE_BYTES = MAX_BLOB_BYTES + (64 << 10);

    private final Path socket;
    private final Duration deadline;
    private final UnaryGrpcClient client;

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
        return uruncEntries(manifest(namespace, containerId).map(m -> m.path("annotations")));
    }

    @Override
    public Map<String, String> imageConfigLabels(String namespace, String containerId) throws IOException {
        Optional<JsonNode> manifest = manifest(namespace, containerId);
        if (manifest.isEmpty()) return Map.of();
        String config = manifest.get().path("config").path("digest").asText("");
        if (config.isEmpty()) return Map.of();
        return uruncEntries(Optional.of(readJson(namespace, config).path("config").path("Labels")));
    }

    /** The {@code com.urunc.} entries of a JSON object of strings: nothing else of a hostile image is kept. */
    private static Map<String, String> uruncEntries(Optional<JsonNode> object) {
        Map<String, String> out = new LinkedHashMap<>();
        object.ifPresent(o -> o.properties().forEach(e -> {
            if (e.getKey().startsWith(URUNC_PREFIX) && e.getValue().isTextual()) out.put(e.getKey(), e.getValue().asText());
        }));
        return out;
    }

    /** The manifest of the container's image for this platform; empty without container, image name or image. */
    private Optional<JsonNode> manifest(String namespace, String containerId) throws IOException {
        Optional<Container> c = container(namespace, containerId);
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
        JsonNode manifest = readJson(namespace, target.getDigest());
        if (INDEX_TYPES.contains(target.getMediaType()) || manifest.has("manifests")) {
            String digest = pickPlatformManifest(manifest)
                    .orElseThrow(() -> new IOException("image " + image + ": its index has no manifest for linux/" + hostArch()));
            manifest = readJson(namespace, digest);
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

    private JsonNode readJson(String namespace, String digest) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            for (byte[] message : client.serverStreaming(CONTENT_READ, namespaceHeader(namespace),
                    ReadContentRequest.newBuilder().setDigest(digest).build().toByteArray(), deadline, MAX_READ_RESPONSE_BYTES)) {
                parse("Content.Read " + digest, () -> ReadContentResponse.parseFrom(message)).getData().writeTo(buf);
                if (buf.size() > MAX_BLOB_BYTES) throw new IOException("content " + digest + " is larger than " + MAX_BLOB_BYTES + " bytes");
            }
        } catch (GrpcException e) {
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
