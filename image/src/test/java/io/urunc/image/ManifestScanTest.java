package io.urunc.image;

import com.google.protobuf.ByteString;
import io.urunc.image.containerd.api.ReadContentResponse;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class ManifestScanTest {
    private static ManifestScan scan(String json) throws IOException {
        return ManifestScan.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "amd64");
    }

    @Test
    void keepsOnlyTopLevelUruncAnnotations() throws IOException {
        ManifestScan m = scan("""
                {"config":{"annotations":{"com.urunc.unikernel.binary":"/nested"}},
                 "annotations":{"org.opencontainers.x":"y","com.urunc.unikernel.binary":"/k","com.urunc.n":7,
                                "com.urunc.obj":{"a":1}}}""");
        assertFalse(m.index());
        assertEquals(Map.of("com.urunc.unikernel.binary", "/k", "com.urunc.n", "7"), m.annotations());
    }

    @Test
    void anIndexPointsToTheLinuxManifestOfThisArchitecture() throws IOException {
        ManifestScan m = scan("""
                {"manifests":[{"digest":"sha256:arm","platform":{"os":"linux","architecture":"arm64"}},
                              {"digest":"sha256:x86","platform":{"os":"linux","architecture":"amd64","features":["x"]}}]}""");
        assertTrue(m.index());
        assertEquals(Optional.of("sha256:x86"), m.manifestFor());
        assertEquals(Optional.of("sha256:one"), scan("{\"manifests\":[{\"digest\":\"sha256:one\"}]}").manifestFor());
        assertEquals(Optional.empty(), scan("{\"manifests\":[{\"digest\":\"a\"},{\"digest\":\"b\"}]}").manifestFor());
    }

    private static byte[] chunk(String data) {
        return ReadContentResponse.newBuilder().setData(ByteString.copyFromUtf8(data)).build().toByteArray();
    }

    @Test
    void contentLargerThanTheCapFailsNamingTheBlob() {
        byte[] head = chunk("{\"annotations\":{\"k\":\"" + "x".repeat(1000));
        byte[] tail = chunk("x".repeat(1000) + "\"}}");
        var e = assertThrows(IOException.class,
                () -> ManifestScan.read(new ContentStream(List.of(head, tail), "sha256:big", 1500), "amd64"));
        assertEquals("content sha256:big is larger than 1500 bytes", e.getMessage());
    }
}
