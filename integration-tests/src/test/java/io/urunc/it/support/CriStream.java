package io.urunc.it.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The client side of CRI's streaming Exec, as {@code kubectl exec} reaches it through a kubelet: the URL CRI answers
 * is opened as a WebSocket with Kubernetes' {@code v4.channel.k8s.io} subprotocol. Every binary message starts with
 * its channel (0 stdin, 1 stdout, 2 stderr, 3 the final status as JSON, 4 resize); the status carries the exit code.
 */
public final class CriStream {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROTOCOL = "v4.channel.k8s.io";

    /** What the command wrote and how it ended; {@code status} is the v4 error channel's JSON. */
    public record Result(String stdout, String stderr, int exitCode, String status) {}

    private CriStream() {}

    /** Runs the exec behind {@code url} (no stdin) to its end. */
    public static Result exec(String url, Duration limit) throws Exception {
        Collector c = new Collector();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        try {
            WebSocket ws = http.newWebSocketBuilder().subprotocols(PROTOCOL)
                    .buildAsync(URI.create(url.replaceFirst("^http", "ws")), c).get(10, TimeUnit.SECONDS);
            try {
                c.closed.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            } finally {
                ws.abort();
            }
        } finally {
            http.close();
        }
        String status = c.channels[3].toString(StandardCharsets.UTF_8);
        return new Result(c.channels[1].toString(StandardCharsets.UTF_8), c.channels[2].toString(StandardCharsets.UTF_8),
                exitCode(status), status);
    }

    /** 0 for "Success"; the ExitCode cause of a NonZeroExitCode failure; -1 for any other failure. */
    static int exitCode(String status) throws IOException {
        if (status.isBlank()) return -1;
        JsonNode s = JSON.readTree(status);
        if ("Success".equals(s.path("status").asText())) return 0;
        for (JsonNode cause : s.path("details").path("causes")) {
            if ("ExitCode".equals(cause.path("reason").asText())) return Integer.parseInt(cause.path("message").asText());
        }
        return -1;
    }

    private static final class Collector implements WebSocket.Listener {
        final ByteArrayOutputStream[] channels = {new ByteArrayOutputStream(), new ByteArrayOutputStream(),
                new ByteArrayOutputStream(), new ByteArrayOutputStream(), new ByteArrayOutputStream()};
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        private int channel = -1;

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            if (channel < 0 && data.hasRemaining()) channel = data.get() & 0xff;
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            if (channel >= 0 && channel < channels.length) channels[channel].writeBytes(bytes);
            if (last) channel = -1;
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }
    }
}
