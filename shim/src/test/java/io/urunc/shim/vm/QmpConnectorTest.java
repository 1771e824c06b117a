package io.urunc.shim.vm;

import io.urunc.shim.io.TaskIo;
import io.urunc.ttrpc.Code;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.qemu.QemuHypervisor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class QmpConnectorTest {
    @Test
    void anInterruptedCreateStopsWaitingForTheControlSocket(@TempDir Path dir) throws Exception {
        // a "VMM" that never opens its control socket
        LaunchPlan plan = new LaunchPlan(List.of("/bin/sleep", "30"), Map.of(), Optional.of(dir.resolve("qmp.sock")));
        VmProcess vmm = VmProcess.launch(plan, TaskIo.open("", "", ""), VmProcess.NamespaceEntry.HOST, Optional.empty());
        try {
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            Thread create = Thread.ofPlatform().start(() -> {
                try {
                    new QmpConnector().connect(new QemuHypervisor(), plan, vmm, TaskIo.open("", "", ""));
                    failure.complete(null);
                } catch (Throwable t) {
                    failure.complete(t);
                }
            });
            Thread.sleep(200);
            create.interrupt();
            Throwable t = failure.get(3, TimeUnit.SECONDS);
            TtrpcException e = assertInstanceOf(TtrpcException.class, t);
            assertEquals(Code.CANCELLED, e.code());
        } finally {
            vmm.signal(9);
        }
    }
}
