package io.urunc.image;

import com.google.protobuf.ByteString;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.urunc.image.containerd.api.Container;
import io.urunc.image.containerd.api.Descriptor;
import io.urunc.image.containerd.api.GetContainerRequest;
import io.urunc.image.containerd.api.GetContainerResponse;
import io.urunc.image.containerd.api.GetImageRequest;
import io.urunc.image.containerd.api.GetImageResponse;
import io.urunc.image.containerd.api.Image;
import io.urunc.image.containerd.api.ReadContentRequest;
import io.urunc.image.containerd.api.ReadContentResponse;
import io.urunc.image.grpc.FakeGrpcServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static io.urunc.image.grpc.FakeGrpcServer.answering;
import static io.urunc.image.grpc.FakeGrpcServer.okHeaders;
import static io.urunc.image.grpc.FakeGrpcServer.send;
import static io.urunc.image.grpc.FakeGrpcServer.trailers;
import static io.urunc.image.grpc.FakeGrpcServer.unframe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The containerd calls and their status handling, against a scripted gRPC server (no root needed). */
class ContainerdGrpcMetadataSourceStatusTest {
    static final String MANIFEST = """
            {"schemaVersion":2,"annotations":{"com.urunc.unikernel.binary":"/kernel","com.urunc.unikernel.hypervisor":"qemu"}}""";

    @TempDir
    Path dir;
    FakeGrpcServer containerd;

    @BeforeEach
    void start() throws Exception {
        containerd = new FakeGrpcServer(dir, this::answer);
    }

    @AfterEach
    void stop() throws Exception {
        containerd.close();
    }

    private void answer(FakeGrpcServer.Request req, Http2StreamChannel stream) {
        try {
            byte[] body = unframe(req.body());
            switch (req.headers().path().toString()) {
                case "/containerd.services.containers.v1.Containers/Get" -> {
                    String id = GetContainerRequest.parseFrom(body).getId();
                    switch (id) {
                        case "c1", "gone-image" -> answering(3, GetContainerResponse.newBuilder().setContainer(Container.newBuilder()
                                .setId(id).setImage(id.equals("c1") ? "img:1" : "deleted:1").putLabels("com.urunc.unikernel.unikernelType", "linux"))
                                .build().toByteArray()).respond(req, stream);
                        case "denied" -> status(stream, 7, "not%20allowed%20%E2%80%94%20ask");
                        default -> status(stream, 5, "container%20" + id + "%3A%20not%20found");
                    }
                }
                case "/containerd.services.images.v1.Images/Get" -> {
                    if (GetImageRequest.parseFrom(body).getName().equals("img:1")) {
                        answering(100, GetImageResponse.newBuilder().setImage(Image.newBuilder().setName("img:1")
                                .setTarget(Descriptor.newBuilder().setDigest("sha256:m").setMediaType("application/vnd.oci.image.manifest.v1+json")))
                                .build().toByteArray()).respond(req, stream);
                    } else {
                        status(stream, 5, "image not found");
                    }
                }
                case "/containerd.services.content.v1.Content/Read" -> {
                    if (ReadContentRequest.parseFrom(body).getDigest().equals("sha256:m")) {
                        byte[] m = MANIFEST.getBytes(StandardCharsets.UTF_8);
                        int half = m.length / 2;
                        answering(17,
                                ReadContentResponse.newBuilder().setData(ByteString.copyFrom(m, 0, half)).build().toByteArray(),
                                ReadContentResponse.newBuilder().setOffset(half).setData(ByteString.copyFrom(m, half, m.length - half)).build().toByteArray())
                                .respond(req, stream);
                    } else {
                        status(stream, 5, "content digest not found");
                    }
                }
                default -> status(stream, 12, "unknown method");
            }
        } catch (IOException e) {
            status(stream, 3, "bad request");
        }
    }

    private static void status(Http2StreamChannel stream, int code, String message) {
        send(stream, okHeaders(), false);
        send(stream, trailers(code, message), true);
    }

    @Test
    void readsLabelsAndManifestAnnotationsSendingTheNamespace() throws Exception {
        try (var src = new ContainerdGrpcMetadataSource(containerd.socket)) {
            assertEquals(Map.of("com.urunc.unikernel.unikernelType", "linux"), src.containerLabels("ns1", "c1"));
            assertEquals(Map.of("com.urunc.unikernel.binary", "/kernel", "com.urunc.unikernel.hypervisor", "qemu"),
                    src.imageManifestAnnotations("ns1", "c1"));
        }
        assertEquals(4, containerd.requests.size());
        for (FakeGrpcServer.Request r : containerd.requests) {
            assertEquals("ns1", r.headers().get("containerd-namespace").toString(), r.headers().path().toString());
        }
    }

    @Test
    void aMissingContainerOrImageGivesEmptyMaps() throws Exception {
        try (var src = new ContainerdGrpcMetadataSource(containerd.socket)) {
            assertEquals(Map.of(), src.containerLabels("ns1", "nope"));
            assertEquals(Map.of(), src.imageManifestAnnotations("ns1", "nope"));
            assertEquals(Map.of(), src.imageManifestAnnotations("ns1", "gone-image"));
        }
    }

    @Test
    void otherStatusesFailNamingTheSocketCallCodeAndMessage() {
        try (var src = new ContainerdGrpcMetadataSource(containerd.socket)) {
            IOException e = assertThrows(IOException.class, () -> src.containerLabels("ns1", "denied"));
            assertEquals("containerd " + containerd.socket + ": Containers.Get denied: PERMISSION_DENIED (not allowed — ask)", e.getMessage());
        }
    }
}
