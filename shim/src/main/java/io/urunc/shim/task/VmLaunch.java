package io.urunc.shim.task;

import io.urunc.shim.vm.VmProcess;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.LaunchPlan;

import java.util.function.BooleanSupplier;

/**
 * What a task's VMM is started with, planned at Create. Docker (26 and later) moves the container's interface
 * into its network namespace only after Create, through {@code /proc/<pid>/ns/net} of the pid Create answered:
 * such a plan is made again at Start when the namespace got configured since ({@link #replanIfStale}).
 */
public final class VmLaunch {
    public record Ready(LaunchPlan plan, VmProcess.NamespaceEntry namespaces) {}

    @FunctionalInterface
    public interface Preparation {
        Ready prepare() throws TtrpcException;
    }

    private static final BooleanSupplier NEVER = () -> false;

    private final Preparation preparation;
    private final BooleanSupplier staleAtStart;
    private Ready ready;

    private VmLaunch(Preparation preparation, BooleanSupplier staleAtStart) throws TtrpcException {
        this.preparation = preparation;
        this.staleAtStart = staleAtStart;
        this.ready = preparation.prepare();
    }

    public static VmLaunch of(Preparation preparation) throws TtrpcException {
        return new VmLaunch(preparation, NEVER);
    }

    /** Planned now, and again at Start if {@code staleAtStart} says what was planned no longer fits. */
    public static VmLaunch replannedAtStartIf(BooleanSupplier staleAtStart, Preparation preparation) throws TtrpcException {
        return new VmLaunch(preparation, staleAtStart);
    }

    synchronized Ready ready() {
        return ready;
    }

    /** At Start: whether the plan was made again (the VMM launched at Create must then be replaced). */
    synchronized boolean replanIfStale() throws TtrpcException {
        if (!staleAtStart.getAsBoolean()) return false;
        ready = preparation.prepare();
        return true;
    }
}
