package io.urunc.vmm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.urunc.vmm.VmControl;
import java.lang.System.Logger.Level;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * QEMU Machine Protocol client over a unix socket. Connects on first use (retrying while QEMU creates the socket),
 * negotiates capabilities, then runs one command at a time, matching replies by id and setting aside the
 * asynchronous events QEMU interleaves with them.
 */
public final class QmpClient implements VmControl {
    private static final System.Logger LOG = System.getLogger(QmpClient.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Put on the reply queue when the connection ends. */
    private static final JsonNode EOF = JSON.createObjectNode().put("__eof", true);
    /** What a QMP connection carries, for {@link #prepare}: QEMU 7.2's greeting, a reply, an event. */
    private static final byte[] SAMPLE = ("""
            {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}
            {"return": {}, "id": 1}
            {"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}
            """).getBytes(StandardCharsets.UTF_8);

    private final Path socket;
    private final Duration connectTimeout;
    private final Duration replyTimeout;
    private final AtomicLong ids = new AtomicLong();
    private final BlockingQueue<JsonNode> replies = new LinkedBlockingQueue<>();
    private final List<JsonNode> events = new ArrayList<>();
    private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
    private volatile SocketChannel channel;
    private volatile IOException readFailure;

    /**
     * Builds QMP's JSON reader and writer now and runs them once over a sample exchange, with no socket: a daemon's
     * warm-up does, so that its first Create does not pay the mapper's construction and their first use.
     */
    public static void prepare() {
        try (MappingIterator<JsonNode> in = messages(new java.io.ByteArrayInputStream(SAMPLE))) {
            int replies = 0;
            while (in.hasNextValue()) if (!in.nextValue().has("event")) replies++;
            if (replies != 2) throw new IllegalStateException("QMP sample: " + replies + " replies");
            encoded(request("qmp_capabilities", 1));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public QmpClient(Path socket, Duration connectTimeout, Duration replyTimeout) {
        this.socket = socket;
        this.connectTimeout = connectTimeout;
        this.replyTimeout = replyTimeout;
    }

    @Override public void pause() throws IOException { execute("stop"); }

    @Override public void resume() throws IOException { execute("cont"); }

    @Override public void powerdown() throws IOException { execute("system_powerdown"); }

    /** Ends QEMU at once; QEMU may close the connection before or right after its reply. */
    @Override
    public void quit() throws IOException {
        try {
            execute("quit");
        } catch (QmpConnectionClosedException closed) {
            LOG.log(Level.DEBUG, "QMP closed by quit: {0}", closed.getMessage());
        }
    }

    /** The VM's run state as QEMU reports it ("running", "paused", "prelaunch", "shutdown", ...). */
    @Override public void ping() throws IOException { status(); }

    public String status() throws IOException { return execute("query-status").path("status").asText(); }

    /** Asynchronous events received so far (oldest first), e.g. STOP, RESUME, POWERDOWN, SHUTDOWN. */
    public List<String> eventNames() {
        synchronized (events) {
            return events.stream().map(e -> e.path("event").asText()).toList();
        }
    }

    /** The reason of QEMU's last SHUTDOWN event, read up to the end of the connection (QEMU's exit). */
    @Override
    public Optional<String> stopReason(Duration wait) {
        if (channel == null) return Optional.empty();
        try {
            if (!ended.await(wait.toNanos(), TimeUnit.NANOSECONDS)) LOG.log(Level.DEBUG, "QMP {0} still open {1} ms after QEMU exited", socket, wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (events) {
            for (JsonNode e : events.reversed())
                if (e.path("event").asText().equals("SHUTDOWN")) return Optional.of(e.path("data").path("reason").asText());
        }
        return Optional.empty();
    }

    /** Runs a command without arguments and returns its "return" value. */
    public JsonNode execute(String command) throws IOException { return execute(command, null); }

    public synchronized JsonNode execute(String command, ObjectNode arguments) throws IOException {
        ensureConnected();
        long id = ids.incrementAndGet();
        ObjectNode request = request(command, id);
        if (arguments != null) request.set("arguments", arguments);
        send(request);
        JsonNode reply = awaitReply(id, command);
        if (reply.has("error")) {
            JsonNode e = reply.get("error");
            throw new IOException("QMP " + command + " failed: " + e.path("class").asText() + ": " + e.path("desc").asText());
        }
        return reply.path("return");
    }

    private void ensureConnected() throws IOException {
        if (channel != null) return;
        long deadline = System.nanoTime() + connectTimeout.toNanos();
        SocketChannel ch = null;
        IOException last = null;
        while (ch == null) {
            SocketChannel attempt = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                attempt.connect(UnixDomainSocketAddress.of(socket));
                ch = attempt;
            } catch (IOException e) {   // not there yet, or QEMU not listening yet
                attempt.close();
                last = e;
                if (System.nanoTime() > deadline)
                    throw new IOException("cannot connect to QMP socket " + socket + " within " + connectTimeout.toMillis() + " ms: " + e.getMessage(), e);
                sleep(20);
            }
        }
        channel = ch;
        var in = Channels.newInputStream(ch);
        Thread.ofVirtual().name("qmp-reader " + socket).start(() -> readLoop(in));
        JsonNode greeting = poll(connectTimeout, "greeting");
        if (!greeting.has("QMP")) throw new IOException("unexpected QMP greeting on " + socket + ": " + greeting);
        long id = ids.incrementAndGet();
        send(request("qmp_capabilities", id));
        JsonNode reply = awaitReply(id, "qmp_capabilities");
        if (reply.has("error")) throw new IOException("QMP capabilities negotiation failed on " + socket + ": " + reply.get("error"));
        if (last != null) LOG.log(Level.DEBUG, "QMP connected to {0} after retrying ({1})", socket, last.getMessage());
    }

    private void readLoop(java.io.InputStream stream) {
        try (MappingIterator<JsonNode> in = messages(stream)) {
            while (in.hasNextValue()) {
                JsonNode msg = in.nextValue();
                if (msg.has("event")) {
                    LOG.log(Level.DEBUG, "QMP event {0}", msg);
                    synchronized (events) { events.add(msg); }
                } else {
                    replies.add(msg);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (channel != null && channel.isOpen()) readFailure = e instanceof IOException io ? io : new IOException(e);
        } finally {
            replies.add(EOF);
            ended.countDown();
        }
    }

    private JsonNode awaitReply(long id, String command) throws IOException {
        long deadline = System.nanoTime() + replyTimeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            JsonNode reply = poll(Duration.ofNanos(Math.max(left, 0)), command);
            if (reply.path("id").asLong(-1) == id) return reply;
            LOG.log(Level.DEBUG, "QMP: ignoring reply {0} while waiting for {1} (id {2})", reply, command, id);
        }
    }

    private JsonNode poll(Duration timeout, String what) throws IOException {
        JsonNode msg;
        try {
            msg = replies.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for QMP " + what, e);
        }
        if (msg == null) throw new IOException("no QMP reply to " + what + " within " + timeout.toMillis() + " ms on " + socket);
        if (msg == EOF) {
            replies.add(EOF); // later calls fail fast too
            String why = readFailure == null ? "" : ": " + readFailure.getMessage();
            throw new QmpConnectionClosedException("QMP connection " + socket + " closed while waiting for " + what + why);
        }
        return msg;
    }

    private void send(ObjectNode request) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(encoded(request));
        while (buf.hasRemaining()) channel.write(buf);
    }

    /** QMP command {@code command}, its reply to carry {@code id}. */
    private static ObjectNode request(String command, long id) {
        return JSON.createObjectNode().put("execute", command).put("id", id);
    }

    /** A request as QMP takes it: one JSON object a line. */
    private static byte[] encoded(ObjectNode request) throws IOException {
        return (JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The JSON objects QEMU sends, one after another. */
    private static MappingIterator<JsonNode> messages(java.io.InputStream stream) throws IOException {
        return JSON.readerFor(JsonNode.class).readValues(stream);
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    @Override
    public void close() {
        SocketChannel ch = channel;
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing QMP socket {0}: {1}", socket, e.getMessage());
        }
    }

    /** The QMP connection ended (QEMU exited or closed it). */
    public static final class QmpConnectionClosedException extends IOException {
        QmpConnectionClosedException(String message) { super(message); }
    }
}
