package io.urunc.shim;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.urunc.proto.bootstrap.BootstrapParams;
import io.urunc.proto.bootstrap.LogLevel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;

import static org.junit.jupiter.api.Assertions.*;

/** start's stdin from containerd 1.6 to 2.3+: nothing, runtime options (an Any), or BootstrapParams. */
class StartInputTest {
    private static final ShimArgs NO_FLAGS = ShimArgs.parse(new String[] {"start"});

    @Test
    void emptyStdinAndRuntimeOptionsLeaveTheFlagsAsTheyAre() throws Exception {
        assertTrue(StartInput.bootstrapParams(new byte[0]).isEmpty());
        // what containerd < 2.3 sends for a runtime with options (docker 20.10 names runc's binary there)
        byte[] options = Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                .setValue(ByteString.copyFromUtf8("\022\026io.containerd.urunc.v2")).build().toByteArray();
        assertTrue(StartInput.bootstrapParams(options).isEmpty(), "an Any is not BootstrapParams");
        assertEquals(NO_FLAGS, StartInput.apply(NO_FLAGS, StartInput.bootstrapParams(options)));
        assertArrayEquals(options, StartInput.read(new ByteArrayInputStream(options)));
    }

    @Test
    void bootstrapParamsFillInMissingFlags() {
        byte[] stdin = BootstrapParams.newBuilder().setInstanceId("task1").setNamespace("k8s.io")
                .setLogLevel(LogLevel.LOG_LEVEL_DEBUG).setContainerdVersion("2.3.4")
                .setContainerdGrpcAddress("/run/containerd/containerd.sock")
                .setContainerdTtrpcAddress("/run/containerd/containerd.sock.ttrpc")
                .setContainerdBinary("/usr/bin/containerd").build().toByteArray();
        ShimArgs a = StartInput.apply(NO_FLAGS, StartInput.bootstrapParams(stdin));
        assertEquals("task1", a.id());
        assertEquals("k8s.io", a.namespace());
        assertEquals("/run/containerd/containerd.sock", a.address());
        assertEquals("/usr/bin/containerd", a.publishBinary());
        assertTrue(a.debug());
        assertEquals("start", a.action());
    }

    @Test
    void flagsWinOverBootstrapParams() {
        ShimArgs flags = ShimArgs.parse(new String[] {"-namespace", "default", "-id", "t2", "start"});
        byte[] stdin = BootstrapParams.newBuilder().setInstanceId("other").setNamespace("k8s.io")
                .setContainerdVersion("2.3.4").build().toByteArray();
        ShimArgs a = StartInput.apply(flags, StartInput.bootstrapParams(stdin));
        assertEquals("t2", a.id());
        assertEquals("default", a.namespace());
        assertFalse(a.debug(), "log level INFO is not debug");
    }

    @Test
    void garbageIsIgnored() {
        assertTrue(StartInput.bootstrapParams(new byte[] {(byte) 0xff, 0x01, 0x02}).isEmpty());
    }
}
