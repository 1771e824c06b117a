package io.urunc.shim.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The shim's configuration, read from a TOML file (default {@code /etc/urunc/config.toml}, overridden by
 * {@code URUNC_CONFIG_FILE}); every value has a default so no file is needed.
 */
public record ShimConfig(
        Grouping grouping,
        Path stateDir,
        String logLevel,
        Duration idleExit,
        Duration idleRelease,
        Duration killGrace,
        Map<String, MonitorConfig> monitors,
        Path virtiofsd) {

    /** Which tasks share one daemon process. */
    public enum Grouping {
        /** One daemon per containerd address and namespace (the default: cheapest in memory). */
        NAMESPACE,
        /** One daemon per pod (io.kubernetes.cri.sandbox-id), else per container. */
        POD,
        /** One daemon per container, like containerd's runc shim without grouping. */
        CONTAINER
    }

    public static final Path DEFAULT_FILE = Path.of("/etc/urunc/config.toml");
    /** Where Debian 12's QEMU ships the C virtiofsd (urunc's {@code [extra_binaries.virtiofsd] path}). */
    public static final Path DEFAULT_VIRTIOFSD = Path.of("/usr/lib/qemu/virtiofsd");

    /**
     * An idle daemon stays 5 minutes: a cold start (a new JVM) costs about 0.5-1 s more than a warm one, an idle
     * daemon ~60 MiB (README, "Start-up and memory"); sporadic `ctr run`/`docker run` then mostly find it running.
     */
    public static final Duration DEFAULT_IDLE_EXIT = Duration.ofSeconds(300);

    /**
     * A daemon that has had no request for 10 s gives its file pages back (IdleRelease): the next request faults back
     * what it uses, ~13 ms more for a `ctr run` here, so commands in quick succession do not pay it and a daemon left
     * idle, or serving tasks that run, is small (README, "Start-up and memory").
     */
    public static final Duration DEFAULT_IDLE_RELEASE = Duration.ofSeconds(10);

    public static ShimConfig defaults() {
        return new ShimConfig(Grouping.NAMESPACE, Path.of("/run/urunc"), "info", DEFAULT_IDLE_EXIT, DEFAULT_IDLE_RELEASE,
                Duration.ofSeconds(10), Map.of(), DEFAULT_VIRTIOFSD);
    }

    /** The monitor's settings, falling back to defaults for monitors the file does not mention. */
    public MonitorConfig monitor(String name) {
        return monitors.getOrDefault(name, MonitorConfig.defaults());
    }
}
