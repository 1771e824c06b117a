package io.urunc.shim.runc;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.urunc.proto.task.ExecProcessRequest;
import io.urunc.ttrpc.Code;
import io.urunc.ttrpc.TtrpcException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class RuncExecTest {
    private static ExecProcessRequest request(String spec, boolean terminal) {
        return ExecProcessRequest.newBuilder().setId("c1").setExecId("e1").setTerminal(terminal)
                .setSpec(Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
                        .setValue(ByteString.copyFrom(spec, StandardCharsets.UTF_8)))
                .build();
    }

    @Test
    void aProcessSpecGoesToRuncAsGiven() throws Exception {
        String spec = "{\"terminal\":false,\"args\":[\"sh\",\"-c\",\"exit 3\"],\"cwd\":\"/\"}";
        assertEquals(spec, new String(RuncExec.checkedSpec("c1", request(spec, false)), StandardCharsets.UTF_8));
        String tty = "{\"terminal\":true,\"args\":[\"sh\"],\"cwd\":\"/\"}";
        assertEquals(tty, new String(RuncExec.checkedSpec("c1", request(tty, true)), StandardCharsets.UTF_8));
    }

    @Test
    void aSpecThatIsNoJsonProcessIsRefusedNamingTheExec() {
        for (String bad : new String[] {"", "not json", "[1,2]", "{\"args\":"}) {
            TtrpcException e = assertThrows(TtrpcException.class, () -> RuncExec.checkedSpec("c1", request(bad, false)), bad);
            assertEquals(Code.INVALID_ARGUMENT, e.code());
            assertTrue(e.getMessage().startsWith("exec process e1 of task c1: its spec is not a JSON OCI process"),
                    e.getMessage());
        }
    }

    @Test
    void aTerminalTheSpecDoesNotAgreeWithIsRefused() {
        TtrpcException e = assertThrows(TtrpcException.class,
                () -> RuncExec.checkedSpec("c1", request("{\"args\":[\"sh\"]}", true)));
        assertEquals(Code.INVALID_ARGUMENT, e.code());
        assertEquals("exec process e1 of task c1: the request says terminal=true but its process spec says"
                + " terminal=false", e.getMessage());
    }
}
