package io.urunc.shim.vm;

import io.urunc.shim.io.OwnerOnly;
import io.urunc.shim.io.TaskIo;
import io.urunc.sys.Libc;
import io.urunc.shim.task.TaskSetup;
import io.urunc.ttrpc.Code;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.VmControl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Waits for a freshly launched VMM to open its control socket. If the VMM exits first, its own error
 * text (stderr) is the error of Create: never a task that claims to run while nothing does.
 */
public final class QmpConnector implements TaskSetup.ControlConnector {
    private static final long TIMEOUT_MS = 20_000;
    /**
     * Between looks for the socket: from 1 ms, doubled up to 5 ms. QEMU/TCG opens it ~45 ms after exec here, so a
     * fixed 20 ms cost a Create 10 ms on average for nothing; a look is one stat.
     */
    private static final long FIRST_WAIT_MS = 1;
    private static final long LONGEST_WAIT_MS = 5;

    @Override
    public VmControl connect(Hypervisor hypervisor, LaunchPlan plan, VmProcess vmm, TaskIo io) throws TtrpcException {
        Path socket = plan.controlSocket().orElseThrow();
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        IOException last = null;
        long wait = FIRST_WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            if (!vmm.alive()) throw failed(hypervisor, vmm, io);
            if (Files.exists(socket)) {
                try {
                    // QEMU made it with the daemon's umask; whoever can connect drives a root VMM
                    OwnerOnly.file(socket);
                    Optional<VmControl> c = hypervisor.control(plan);
                    if (c.isPresent()) {
                        try {
                            c.get().ping();
                            return c.get();
                        } catch (IOException e) {
                            c.get().close();
                            throw e;
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    last = e instanceof IOException io2 ? io2 : new IOException(e);
                }
            }
            try {
                vmm.exit().get(wait, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                // the Create was cancelled (its caller gave up): stop waiting, the Create's cleanup stops the VMM
                Thread.currentThread().interrupt();
                throw new TtrpcException(Code.CANCELLED, "interrupted while waiting for "
                        + hypervisor.name() + " to open its control socket " + socket);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException stillRunning) {
                // still running
            }
            wait = Math.min(wait * 2, LONGEST_WAIT_MS);
        }
        try {
            vmm.signal(Libc.SIGKILL);
        } catch (IOException ignored) {
            // gone
        }
        // a socket that exists but never answers is a hung VMM, not a slow one
        String what = Files.exists(socket) ? " did not answer on its control socket " : " did not open its control socket ";
        throw TtrpcException.deadlineExceeded(hypervisor.name() + what + socket
                + " within " + TIMEOUT_MS / 1000 + " s" + (last == null ? "" : ": " + last.getMessage()));
    }

    private static TtrpcException failed(Hypervisor hypervisor, VmProcess vmm, TaskIo io) {
        String status;
        try {
            // dead, but its waiter may not have reported how yet
            status = vmm.exit().get(2, TimeUnit.SECONDS).toString();
            // let the stderr pump catch the last words
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = "ended";
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            status = "ended";
        }
        String why = io.stderrTail();
        return TtrpcException.failedPrecondition(hypervisor.name() + " " + status + " before the VM started" + (why.isEmpty() ? "" : ": " + why));
    }
}
