package io.urunc.proto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.urunc.proto.cgroups.v1.Metrics;
import io.urunc.proto.events.TaskExit;
import io.urunc.proto.events.ttrpc.Envelope;
import io.urunc.proto.events.ttrpc.ForwardRequest;
import io.urunc.proto.rpc.Status;
import io.urunc.proto.task.DeleteResponse;
import io.urunc.proto.task.StateRequest;
import io.urunc.proto.task.StateResponse;
import io.urunc.proto.ttrpc.Request;
import io.urunc.proto.ttrpc.Response;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Encodings checked against bytes observed from containerd 1.6.20 (see the shim contract notes). */
class WireEncodingTest {

    private static byte[] concat(Object... parts) {
        var out = new ByteArrayOutputStream();
        for (Object part : parts) {
            byte[] bytes = switch (part) {
                case String s -> s.getBytes(StandardCharsets.US_ASCII);
                case byte[] b -> b;
                case Integer i -> new byte[] {i.byteValue()};
                default -> throw new IllegalArgumentException(part.toString());
            };
            out.writeBytes(bytes);
        }
        return out.toByteArray();
    }

    @Test
    void stateRequestFromContainerd16IsByteIdentical() throws InvalidProtocolBufferException {
        long timeoutNanos = 2_000_000_000L;
        Request request = Request.newBuilder()
                .setService("containerd.task.v2.Task")
                .setMethod("State")
                .setPayload(StateRequest.newBuilder().setId("g1").build().toByteString())
                .setTimeoutNano(timeoutNanos)
                .build();

        byte[] expected = concat(0x0a, 0x17, "containerd.task.v2.Task", 0x12, 0x05, "State",
                0x1a, 0x04, 0x0a, 0x02, "g1", 0x20, HexFormat.of().parseHex("80a8d6b907"));
        assertArrayEquals(expected, request.toByteArray());
        assertEquals(0x2c, request.getSerializedSize(), "frame length field in the observed header");

        Request parsed = Request.parseFrom(expected);
        assertEquals("g1", StateRequest.parseFrom(parsed.getPayload()).getId());
    }

    @Test
    void successfulEmptyResponseHasNoBytesAtAll() {
        assertEquals(0, Response.getDefaultInstance().toByteArray().length);
    }

    @Test
    void errorResponseCarriesGoogleRpcStatusInFieldOne() {
        Response response = Response.newBuilder()
                .setStatus(Status.newBuilder().setCode(5).setMessage("x"))
                .build();
        assertArrayEquals(HexFormat.of().parseHex("0a050805120178"), response.toByteArray());
    }

    @Test
    void protobufFullNamesMatchUpstreamTypeUrls() {
        assertEquals("containerd.task.v2.StateRequest", StateRequest.getDescriptor().getFullName());
        assertEquals("containerd.events.TaskExit", TaskExit.getDescriptor().getFullName());
        assertEquals("io.containerd.cgroups.v1.Metrics", Metrics.getDescriptor().getFullName());
        assertEquals("io.containerd.cgroups.v2.Metrics", io.urunc.proto.cgroups.v2.Metrics.getDescriptor().getFullName());
        assertEquals("containerd.services.events.ttrpc.v1.Events",
                io.urunc.proto.events.ttrpc.EventsTtrpcProto.getDescriptor().getServices().getFirst().getFullName());
        assertEquals("containerd.task.v2.Task",
                io.urunc.proto.task.ShimProto.getDescriptor().getServices().getFirst().getFullName());
    }

    @Test
    void runningTaskStateWithGoZeroTimeRoundTrips() throws InvalidProtocolBufferException {
        StateResponse state = StateResponse.newBuilder()
                .setId("g1")
                .setPid(42)
                .setStatus(io.urunc.proto.types.task.Status.RUNNING)
                .setExitedAt(Timestamp.newBuilder().setSeconds(-62135596800L))
                .build();
        StateResponse parsed = StateResponse.parseFrom(state.toByteArray());
        assertEquals(io.urunc.proto.types.task.Status.RUNNING, parsed.getStatus());
        assertEquals(-62135596800L, parsed.getExitedAt().getSeconds());
        // status=4 is a varint field: tag 0x20, RUNNING=2
        assertEquals(ByteString.copyFrom(new byte[] {0x20, 0x02}),
                StateResponse.newBuilder().setStatus(io.urunc.proto.types.task.Status.RUNNING).build().toByteString());
    }

    @Test
    void deleteResponseEncodesPidAndExitStatus() {
        DeleteResponse delete = DeleteResponse.newBuilder().setPid(7).setExitStatus(137).build();
        assertArrayEquals(HexFormat.of().parseHex("0807108901"), delete.toByteArray());
    }

    @Test
    void eventsAreWrappedWithBareTypeUrls() throws InvalidProtocolBufferException {
        TaskExit exit = TaskExit.newBuilder().setContainerId("c").setId("c").setPid(9).setExitStatus(7).build();
        Any any = ContainerdAny.pack(exit);
        assertEquals("containerd.events.TaskExit", any.getTypeUrl());
        ForwardRequest forward = ForwardRequest.newBuilder()
                .setEnvelope(Envelope.newBuilder().setNamespace("ns").setTopic("/tasks/exit").setEvent(any))
                .build();
        Any back = ForwardRequest.parseFrom(forward.toByteArray()).getEnvelope().getEvent();
        assertEquals(exit, ContainerdAny.unpack(back, TaskExit.getDefaultInstance(), TaskExit.parser()));
        assertEquals(exit, ContainerdAny.unpack(Any.pack(exit), TaskExit.getDefaultInstance(), TaskExit.parser()),
                "a type.googleapis.com/ prefix is accepted too");
        assertThrows(InvalidProtocolBufferException.class,
                () -> ContainerdAny.unpack(any, Metrics.getDefaultInstance(), Metrics.parser()));
    }
}
