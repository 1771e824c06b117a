package io.urunc.shim;

import io.urunc.image.ContainerdMetadataSource;
import io.urunc.image.MetadataResolver;
import io.urunc.shim.config.ShimConfig;
import io.urunc.shim.events.EventPublisher;
import io.urunc.shim.io.OwnerOnly;
import io.urunc.shim.runc.RuncTasks;
import io.urunc.shim.task.TaskFactory;
import io.urunc.shim.task.TaskLocks;
import io.urunc.shim.task.TaskService;
import io.urunc.shim.task.TaskStore;
import io.urunc.shim.vm.QmpConnector;
import io.urunc.sys.Libc;
import io.urunc.ttrpc.TtrpcServer;
import java.lang.System.Logger.Level;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The long-lived shim process: serves containerd.task.v2.Task on a unix socket for every task of its
 * group, and exits once it has had no task and no connection for the configured idle time.
 */
final class Daemon {
    private static final System.Logger LOG = System.getLogger(Daemon.class.getName());

    private final ShimArgs args;
    private final ShimConfig config;
    private final ContainerdMetadataSource containerd;
    private final DaemonAddress address;
    private final CountDownLatch stop = new CountDownLatch(1);
    private TaskService service;
    private TtrpcServer server;
    private EventPublisher events;

    /** {@code containerd}: containerd's gRPC side for image metadata ({@link ContainerdSource}), null without an address. */
    Daemon(ShimArgs args, ShimConfig config, ContainerdMetadataSource containerd) {
        this.args = args;
        this.config = config;
        this.containerd = containerd;
        String hex = Path.of(args.socket()).getFileName().toString();
        this.address = new DaemonAddress(hex, Path.of(args.socket()), config.stateDir());
    }

    /**
     * Binds, reports READY on stdout, and serves until idle. Whoever spawned it (the launcher, or {@code start} in Java)
     * holds no lock: the daemon decides under the group's lock, the one {@link IdleExit} takes, whether it serves or
     * another daemon of the group already does. In that case it reports READY too (the address is the same) and ends.
     */
    void run() throws Exception {
        Files.createDirectories(address.lockFile().getParent());
        try (DaemonAddress.GroupLock ignored = address.lockGroup()) {
            if (StartCommand.connectable(address.socket())) {
                LOG.log(Level.INFO, "{0} is already served: this daemon ends", address.socket());
                System.out.println("READY served by another daemon");
                System.out.flush();
                return;
            }
            serve();
        }
        awaitIdle();
    }

    private void serve() throws Exception {
        try {
            Libc.prctl(Libc.PR_SET_CHILD_SUBREAPER, 1);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot become a child subreaper: {0}", e.getMessage());
        }
        String ttrpcAddress = System.getenv().getOrDefault("TTRPC_ADDRESS", args.address() + ".ttrpc");
        events = new EventPublisher(Path.of(stripUnix(ttrpcAddress)), args.namespace());
        OwnerOnly.directory(config.stateDir());
        TaskStore store = new TaskStore(config.stateDir());
        MetadataResolver resolver = new MetadataResolver(containerd);
        TaskFactory factory = new TaskFactory(config, args.namespace(), resolver, store, new QmpConnector(),
                new RuncTasks(config, args.namespace()));
        service = new TaskService(factory, events, new TaskLocks(config.stateDir()), args.namespace(),
                () -> LOG.log(Level.DEBUG, "shutdown requested"));
        server = service.register(TtrpcServer.builder()).build();
        Files.createDirectories(address.socket().getParent());
        // not connectable under the lock: a socket file left there is a dead daemon's
        Files.deleteIfExists(address.socket());
        server.bind(address.socket());
        OwnerOnly.file(address.socket());
        Files.createDirectories(address.pidFile().getParent());
        Files.writeString(address.pidFile(), Long.toString(ProcessHandle.current().pid()));
        long[] sinceExec = sinceExec();
        LOG.log(Level.INFO, "serving namespace {0} on {1} (pid {2}), {3} ms after exec ({4} ms of CPU)", args.namespace(),
                address.socket(), ProcessHandle.current().pid(), sinceExec[0], sinceExec[1]);
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        detachStdout();
    }

    private void awaitIdle() throws Exception {
        TaskService service = this.service;
        TtrpcServer server = this.server;
        Thread.ofPlatform().daemon().name("idle-watch").start(() -> watchIdle(service, server));
        stop.await();
        LOG.log(Level.INFO, "no tasks and no connections for {0}: exiting", config.idleExit());
        server.close();
        service.deleteAll();
        events.close();
    }

    private void watchIdle(TaskService service, TtrpcServer server) {
        IdleExit idleExit = new IdleExit(address, config.idleExit());
        long idleSince = System.nanoTime();
        long releasedAfterCall = -1;
        while (true) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            long lastCall = server.lastCallNanos();
            if (!config.idleRelease().isZero() && lastCall != releasedAfterCall
                    && System.nanoTime() - lastCall >= config.idleRelease().toNanos()) {
                IdleRelease.run();
                releasedAfterCall = lastCall;
            }
            if (service.taskCount() > 0 || server.openConnections() > 0) {
                idleSince = System.nanoTime();
                continue;
            }
            if (System.nanoTime() - idleSince < config.idleExit().toNanos()) continue;
            try {
                if (!idleExit.leaveUnlessWanted(server::close)) {
                    idleSince = System.nanoTime();
                    continue;
                }
            } catch (IOException e) {
                LOG.log(Level.WARNING, "idle check: {0}", e.getMessage());
                continue;
            }
            stop.countDown();
            return;
        }
    }

    /** After READY nobody reads our stdout: point fd 1 at /dev/null so stray prints cannot block or fail. */
    private static void detachStdout() {
        try {
            int fd = Libc.open("/dev/null", Libc.O_WRONLY, 0);
            Libc.dup2(fd, 1);
            Libc.close(fd);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot detach stdout: {0}", e.getMessage());
        }
    }

    /**
     * Wall and CPU milliseconds since the kernel started this process, in its 10 ms ticks (USER_HZ; the wall time
     * against /proc/uptime: ProcessHandle's start instant is only as exact as the boot time's second). The CPU time
     * tells the start-up's own cost on a loaded machine. -1 if unreadable.
     */
    static long[] sinceExec() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startTicks = Long.parseLong(fields[19]);
            long cpuTicks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            return new long[] {Math.round(uptime * 1000) - startTicks * 10, cpuTicks * 10};
        } catch (IOException | RuntimeException e) {
            return new long[] {-1, -1};
        }
    }

    static String stripUnix(String address) {
        return address.startsWith("unix://") ? address.substring(7) : address;
    }
}
