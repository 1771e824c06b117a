package io.urunc.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.urunc.proto.task.ConnectRequest;
import io.urunc.proto.task.ConnectResponse;
import io.urunc.proto.task.StateRequest;
import io.urunc.proto.ttrpc.KeyValue;
import io.urunc.proto.ttrpc.Request;
import io.urunc.proto.ttrpc.Response;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated ttrpc byte streams through the server pipeline (frame decoder, encoder, connection handler)
 * on an {@link EmbeddedChannel}, for a bounded time. Every case is reproducible from its seed:
 * {@code -Dttrpc.fuzz.seed=<seed>} runs that one case; {@code -Dttrpc.fuzz.seconds=<s>} sets the budget per
 * property (default 2). Properties: nothing escapes the pipeline, the connection stays open, every frame written
 * back is a well-formed Response, each framed message gets exactly the answers the protocol defines (one per
 * request), and bytes a header only claims are never allocated.
 */
class FrameFuzzTest {
    private static final String TASK = "containerd.task.v2.Task";
    private static final List<String> METHODS = List.of("Connect", "State", "Kill", "Pause", "Missing");
    private static final long BASE_SEED = 0x5EED_2026L;
    private static final byte[] JUNK = new byte[Frame.MAX_PAYLOAD + 4096];
    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static EmbeddedChannel server() {
        ServiceRegistry registry = new ServiceRegistry.Builder()
                .add(TASK, "Connect", ConnectRequest.parser(), (ConnectRequest req, CallContext ctx) ->
                        ConnectResponse.newBuilder().setVersion(req.getId()).build())
                .add(TASK, "State", StateRequest.parser(), (StateRequest req, CallContext ctx) -> {
                    throw TtrpcException.notFound("container " + req.getId() + " not found");
                })
                .add(TASK, "Kill", StateRequest.parser(), (StateRequest req, CallContext ctx) -> {
                    throw new IllegalStateException("handler bug");
                })
                .add(TASK, "Pause", StateRequest.parser(), (StateRequest req, CallContext ctx) -> Empty.getDefaultInstance())
                .build();
        return new EmbeddedChannel(new FrameDecoder(), FrameEncoder.INSTANCE, new ServerConnectionHandler(registry, new InlineExecutor()));
    }

    /** One message as a client puts it on the wire, and the stream id of the answer the protocol defines, if any. */
    private record Message(byte[] bytes, Integer answeredOn) {}

    /** A client session: framing always intact, contents anything from valid calls to garbage. */
    private static final class Session {
        private final SplittableRandom rng;
        private int lastRequestId;

        Session(SplittableRandom rng) {
            this.rng = rng;
        }

        List<Message> messages(int count) {
            List<Message> out = new ArrayList<>();
            for (int i = 0; i < count; i++) out.add(next());
            return out;
        }

        private Message next() {
            int roll = rng.nextInt(100);
            if (roll < 1) {
                int stream = streamId();
                long length = Frame.MAX_PAYLOAD + 1 + rng.nextInt(4096);
                return new Message(concat(header(length, stream, Frame.TYPE_REQUEST, 0), Arrays.copyOf(JUNK, (int) length)), stream);
            }
            int type = roll < 80 ? Frame.TYPE_REQUEST : roll < 90 ? Frame.TYPE_DATA : rng.nextInt(256);
            int stream = streamId();
            byte[] payload = roll < 60 ? request().toByteArray() : roll < 70 ? mutate(request().toByteArray()) : randomBytes(rng.nextInt(64));
            return new Message(concat(header(payload.length, stream, type, rng.nextInt(256)), payload), expectedAnswer(type, stream));
        }

        /** What ServerConnectionHandler promises (Go ttrpc's rules); every call ends inline, so no stream is active. */
        private Integer expectedAnswer(int type, int stream) {
            if (type != Frame.TYPE_REQUEST && type != Frame.TYPE_DATA) return null;
            if ((stream & 1) == 0 || type == Frame.TYPE_DATA) return stream;
            if (Integer.compareUnsigned(stream, lastRequestId) > 0) lastRequestId = stream;
            return stream;
        }

        private int streamId() {
            int roll = rng.nextInt(100);
            if (roll < 80) return lastRequestId + 1 + 2 * rng.nextInt(3) + ((lastRequestId & 1) == 0 ? 0 : 1);
            if (roll < 90) return rng.nextInt() & ~1;
            if (roll < 95) return lastRequestId;
            return rng.nextInt();
        }

        private Request request() {
            Request.Builder r = Request.newBuilder()
                    .setService(rng.nextInt(10) < 8 ? TASK : randomString())
                    .setMethod(rng.nextInt(10) < 8 ? METHODS.get(rng.nextInt(METHODS.size())) : randomString());
            r.setPayload(rng.nextBoolean() ? ConnectRequest.newBuilder().setId(randomString()).build().toByteString() : ByteString.copyFrom(randomBytes(rng.nextInt(48))));
            switch (rng.nextInt(4)) {
                case 0 -> r.setTimeoutNano(rng.nextLong());
                case 1 -> r.setTimeoutNano(1 + rng.nextInt(1_000_000));
                default -> { }
            }
            for (int i = rng.nextInt(4); i > 0; i--) r.addMetadata(KeyValue.newBuilder().setKey(randomString()).setValue(randomString()));
            return r.build();
        }

        private byte[] mutate(byte[] b) {
            byte[] m = b.length == 0 ? new byte[1] : b.clone();
            for (int i = 1 + rng.nextInt(4); i > 0; i--) m[rng.nextInt(m.length)] ^= (byte) (1 << rng.nextInt(8));
            return rng.nextInt(4) == 0 ? Arrays.copyOf(m, rng.nextInt(m.length + 1)) : m;
        }

        private String randomString() {
            StringBuilder s = new StringBuilder();
            for (int i = rng.nextInt(12); i > 0; i--) s.appendCodePoint(rng.nextInt(4) == 0 ? rng.nextInt(0x20, 0x3000) : rng.nextInt('a', 'z' + 1));
            return s.toString();
        }

        byte[] randomBytes(int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) b[i] = (byte) rng.nextInt(256);
            return b;
        }
    }

    @Test
    void everyFramedMessageGetsExactlyTheAnswersTheProtocolDefines() {
        forEachCase("framed", (seed, rng) -> {
            List<Message> messages = new Session(rng).messages(1 + rng.nextInt(60));
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            List<Integer> expected = new ArrayList<>();
            for (Message m : messages) {
                wire.writeBytes(m.bytes());
                if (m.answeredOn() != null) expected.add(m.answeredOn());
            }
            EmbeddedChannel ch = server();
            try {
                feedInChunks(ch, wire.toByteArray(), rng);
                assertEquals(expected, answeredStreams(ch, seed), "answers per stream, seed " + seed);
            } finally {
                ch.finishAndReleaseAll();
            }
        });
    }

    @Test
    void mutatedStreamsNeverBreakThePipelineOrAllocateWhatTheyOnlyClaim() {
        forEachCase("mutated", (seed, rng) -> {
            Session session = new Session(rng);
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            for (Message m : session.messages(1 + rng.nextInt(30))) {
                if (m.bytes().length < Frame.MAX_PAYLOAD) wire.writeBytes(m.bytes());
            }
            byte[] bytes = wire.toByteArray();
            for (int i = rng.nextInt(8); i > 0 && bytes.length > 0; i--) {
                int at = rng.nextInt(bytes.length);
                switch (rng.nextInt(4)) {
                    case 0 -> bytes[at] ^= (byte) (1 << rng.nextInt(8));
                    case 1 -> bytes = concat(Arrays.copyOf(bytes, at), session.randomBytes(1 + rng.nextInt(16)), Arrays.copyOfRange(bytes, at, bytes.length));
                    case 2 -> bytes = concat(Arrays.copyOf(bytes, at), Arrays.copyOfRange(bytes, Math.min(bytes.length, at + 1 + rng.nextInt(16)), bytes.length));
                    default -> bytes = concat(Arrays.copyOf(bytes, at), header(rng.nextLong(0, 1L << 32), rng.nextInt(), rng.nextInt(256), 0), Arrays.copyOfRange(bytes, at, bytes.length));
                }
            }
            EmbeddedChannel ch = server();
            try {
                long before = THREADS.getCurrentThreadAllocatedBytes();
                feedInChunks(ch, bytes, rng);
                answeredStreams(ch, seed);
                long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                assertTrue(allocated < 64L * bytes.length + (8 << 20),
                        "seed " + seed + ": " + allocated + " bytes allocated for " + bytes.length + " bytes received");
            } finally {
                ch.finishAndReleaseAll();
            }
        });
    }

    @Test
    void aHeaderClaimingFourGibibytesIsAnsweredAndSkippedWithoutAllocatingIt() throws Exception {
        warmUp();
        EmbeddedChannel ch = server();
        try {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            ch.writeInbound(Unpooled.wrappedBuffer(header(0xFFFF_FFFFL, 1, Frame.TYPE_REQUEST, 0)));
            for (int i = 0; i < 64; i++) ch.writeInbound(Unpooled.wrappedBuffer(JUNK, 0, 1 << 20));
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < (2 << 20), allocated + " bytes allocated for a 4 GiB claim and 64 MiB of its body");
            ch.checkException();
            assertTrue(ch.isOpen());
            Response r = onlyResponse(ch, 1);
            assertEquals(Code.RESOURCE_EXHAUSTED.value(), r.getStatus().getCode(), r.toString());
            assertEquals("message length 4294967295 exceed maximum message size of " + Frame.MAX_PAYLOAD, r.getStatus().getMessage());
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aClaimOfTheMaximumIsNotAllocatedBeforeItsBytesArriveAndAnOversizedFrameIsSkippedExactly() throws Exception {
        warmUp();
        EmbeddedChannel ch = server();
        try {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            ch.writeInbound(Unpooled.wrappedBuffer(concat(header(Frame.MAX_PAYLOAD, 1, Frame.TYPE_REQUEST, 0), new byte[100])));
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < (1 << 20), allocated + " bytes allocated for 100 bytes of a 4 MiB frame");
            assertTrue(answeredStreams(ch, 0).isEmpty(), "nothing to answer before the frame is complete");
        } finally {
            ch.finishAndReleaseAll();
        }

        ch = server();
        try {
            int over = Frame.MAX_PAYLOAD + 10;
            byte[] call = Request.newBuilder().setService(TASK).setMethod("Connect")
                    .setPayload(ConnectRequest.newBuilder().setId("after").build().toByteString()).build().toByteArray();
            ch.writeInbound(Unpooled.wrappedBuffer(concat(header(over, 1, Frame.TYPE_REQUEST, 0), Arrays.copyOf(JUNK, over), header(call.length, 3, Frame.TYPE_REQUEST, 0), call)));
            assertEquals(Code.RESOURCE_EXHAUSTED.value(), nextResponse(ch, 1).getStatus().getCode());
            assertEquals("after", ConnectResponse.parseFrom(nextResponse(ch, 3).getPayload()).getVersion(), "the connection is in step after the skip");
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    /** Loads the classes and fills the allocator caches a first answer needs, so measurements see only the frame. */
    private static void warmUp() {
        EmbeddedChannel ch = server();
        try {
            ch.writeInbound(Unpooled.wrappedBuffer(header(0xFFFF_FFFFL, 1, Frame.TYPE_REQUEST, 0)));
            ch.writeInbound(Unpooled.wrappedBuffer(JUNK, 0, 1 << 20));
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @FunctionalInterface
    private interface Case {
        void run(long seed, SplittableRandom rng) throws Exception;
    }

    /** Runs cases with consecutive seeds until the time budget is spent (or only the seed asked for). */
    private static void forEachCase(String what, Case c) {
        String only = System.getProperty("ttrpc.fuzz.seed");
        Duration budget = Duration.ofSeconds(Long.getLong("ttrpc.fuzz.seconds", 2));
        assertTimeoutPreemptively(budget.plusSeconds(30), () -> {
            long deadline = System.nanoTime() + budget.toNanos();
            long seed = only != null ? Long.parseLong(only) : BASE_SEED;
            int cases = 0;
            do {
                try {
                    c.run(seed, new SplittableRandom(seed));
                } catch (Throwable t) {
                    throw new AssertionError(what + " case failed; reproduce with -Dttrpc.fuzz.seed=" + seed + ": " + t, t);
                }
                seed++;
                cases++;
            } while (only == null && System.nanoTime() < deadline);
            System.out.printf("ttrpc fuzz (%s): %d cases from seed %d%n", what, cases, only != null ? Long.parseLong(only) : BASE_SEED);
        }, what + ": a case hung");
    }

    private static void feedInChunks(EmbeddedChannel ch, byte[] bytes, SplittableRandom rng) {
        for (int at = 0; at < bytes.length; ) {
            int n = Math.min(bytes.length - at, rng.nextInt(4) == 0 ? 1 + rng.nextInt(8) : 1 + rng.nextInt(4096));
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, at, n));
            at += n;
        }
        ch.runPendingTasks();
    }

    /**
     * The stream ids of everything the server wrote, in order, each checked to be a well-formed Response frame; the
     * pipeline must have raised nothing and kept the connection.
     */
    private static List<Integer> answeredStreams(EmbeddedChannel ch, long seed) throws InvalidProtocolBufferException {
        ch.runPendingTasks();
        ch.checkException();
        assertTrue(ch.isOpen(), "seed " + seed + ": the server closed the connection");
        List<Integer> streams = new ArrayList<>();
        for (ByteBuf out; (out = ch.readOutbound()) != null; ) {
            try {
                while (out.isReadable()) {
                    long length = out.readUnsignedInt();
                    streams.add(out.readInt());
                    assertEquals(Frame.TYPE_RESPONSE, out.readByte(), "seed " + seed + ": frame type");
                    assertEquals(0, out.readByte(), "seed " + seed + ": flags");
                    assertTrue(length <= Frame.MAX_PAYLOAD && length <= out.readableBytes(), "seed " + seed + ": response length " + length);
                    byte[] payload = new byte[(int) length];
                    out.readBytes(payload);
                    Response.parseFrom(payload);
                }
            } finally {
                out.release();
            }
        }
        return streams;
    }

    private static Response onlyResponse(EmbeddedChannel ch, int stream) throws Exception {
        Response r = nextResponse(ch, stream);
        assertTrue(answeredStreams(ch, 0).isEmpty(), "a single answer");
        return r;
    }

    private static Response nextResponse(EmbeddedChannel ch, int stream) throws InvalidProtocolBufferException {
        ch.runPendingTasks();
        ByteBuf out = ch.readOutbound();
        if (out == null) fail("no answer on stream " + stream);
        try {
            int length = out.readInt();
            assertEquals(stream, out.readInt());
            assertEquals(Frame.TYPE_RESPONSE, out.readByte());
            out.readByte();
            byte[] payload = new byte[length];
            out.readBytes(payload);
            return Response.parseFrom(payload);
        } finally {
            out.release();
        }
    }

    private static byte[] header(long length, int streamId, int type, int flags) {
        return ByteBuffer.allocate(Frame.HEADER_LENGTH).putInt((int) length).putInt(streamId).put((byte) type).put((byte) flags).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
