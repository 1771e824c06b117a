package io.urunc.shim.task;

import com.google.protobuf.Message;
import io.urunc.shim.io.TaskIo;
import io.urunc.shim.vm.VmProcess;
import io.urunc.sys.Libc;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmControl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A task whose "VMM" is a shell script, started as the shim starts VMMs: under {@code unshare --pid --fork}. */
class UnikernelTaskTest {
    /** Stops on SIGTERM, as QEMU does. */
    static final String STOPS_ON_TERM = "trap 'exit 0' TERM; while :; do sleep 0.05; done";
    /** Ignores SIGTERM, as a VMM without a handler does when it is pid 1 of its namespace. */
    static final String IGNORES_TERM = "trap '' TERM; while :; do sleep 0.05; done";

    @TempDir
    Path dir;
    final List<String> topics = Collections.synchronizedList(new ArrayList<>());
    private final List<UnikernelTask> tasks = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (UnikernelTask t : tasks) {
            try {
                t.kill(Libc.SIGKILL, true);
            } catch (Exception ignored) {
                // already finished
            }
        }
    }

    static final VmProcess.NamespaceEntry OWN_PID_NAMESPACE = new VmProcess.NamespaceEntry() {
        @Override
        public <T> T call(Callable<T> action) throws Exception {
            return action.call();
        }

        @Override
        public List<String> wrap(List<String> argv) {
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--"));
            cmd.addAll(argv);
            return cmd;
        }
    };

    static final Hypervisor FAKE = new Hypervisor() {
        public String name() {
            return "fake";
        }

        public String defaultBinary() {
            return "/bin/sh";
        }

        public LaunchPlan plan(VmConfig config) {
            throw new UnsupportedOperationException();
        }

        public int containerExitCode(int status) {
            return status;
        }

        public Optional<VmControl> control(LaunchPlan plan) {
            return Optional.empty();
        }
    };

    /** A control channel that accepts every request and does nothing (the guest never powers off). */
    static final VmControl DEAF = new VmControl() {
        public void pause() {}

        public void resume() {}

        public void powerdown() {}

        public void close() {}
    };

    /** {@code held}: a VMM with a control channel, launched at Create and held until Start (QEMU -S). */
    UnikernelTask task(String script, boolean held, Duration grace) throws Exception {
        LaunchPlan plan = new LaunchPlan(List.of("/bin/sh", "-c", script), java.util.Map.of(),
                held ? Optional.of(dir.resolve("ctl.sock")) : Optional.empty());
        TaskSetup setup = new TaskSetup("t1", "default", dir, false, FAKE, plan, TaskIo.open("", "", ""),
                Optional.empty(), OWN_PID_NAMESPACE, new Cleanup(), vmm -> {}, (h, p, v, io) -> DEAF);
        UnikernelTask t = new UnikernelTask(setup, (topic, event) -> topics.add(topic), grace);
        tasks.add(t);
        t.launch();
        return t;
    }

    static int exitCodeWithin(Task t, long seconds) throws Exception {
        return t.exitFuture().get(seconds, TimeUnit.SECONDS).code();
    }

    @Test
    void sigtermReachesTheVmmUnderItsPidNamespaceWrapper() throws Exception {
        UnikernelTask t = task(STOPS_ON_TERM, false, Duration.ofSeconds(60));
        t.start();
        Thread.sleep(200);
        t.kill(Libc.SIGTERM, false);
        assertEquals(128 + Libc.SIGTERM, exitCodeWithin(t, 3), "stopped by SIGTERM, long before the grace");
    }

    @Test
    void aVmmWithoutControlThatIgnoresSigtermIsKilledAfterTheGrace() throws Exception {
        UnikernelTask t = task(IGNORES_TERM, false, Duration.ofMillis(500));
        t.start();
        Thread.sleep(200);
        t.kill(Libc.SIGTERM, false);
        assertEquals(128 + Libc.SIGKILL, exitCodeWithin(t, 5));
    }

    @Test
    void aCreatedHeldVmmIsStoppedBySigtermAndKilledAfterTheGrace() throws Exception {
        UnikernelTask t = task(IGNORES_TERM, true, Duration.ofMillis(500));
        Thread.sleep(200);
        t.kill(Libc.SIGTERM, false);
        assertEquals(128 + Libc.SIGKILL, exitCodeWithin(t, 5));
    }

    @Test
    void aRunningGuestThatIgnoresPowerOffIsKilledAfterTheGrace() throws Exception {
        UnikernelTask t = task(IGNORES_TERM, true, Duration.ofMillis(500));
        t.start();
        t.kill(Libc.SIGTERM, false);
        assertEquals(128 + Libc.SIGKILL, exitCodeWithin(t, 5));
    }
}
