package io.urunc.shim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The launcher records the AOT cache with {@code aot-train} and hands it to the JVM only while it matches the jars it
 * was recorded with (the JVM itself would run a stale cache). A stand-in java records every invocation.
 */
class LauncherAotCacheTest {
    private static final String FAKE_JAVA = """
            #!/bin/sh
            echo "$* | env=$URUNC_JVM_OPTIONS" >> "$(dirname "$0")/calls"
            case " $* " in *" daemon "*) echo "READY 1" ;; esac
            for a in "$@"; do
              case "$a" in -XX:AOTCache=*) [ -n "$create" ] && echo cache > "${a#-XX:AOTCache=}" ;; -XX:AOTMode=create) create=1 ;; esac
            done
            """;

    private static Path home(Path dir) throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        Files.createDirectories(home.resolve("lib"));
        Files.writeString(home.resolve("lib/b.jar"), "b");
        Files.writeString(home.resolve("lib/a.jar"), "a");
        Path java = dir.resolve("java");
        Files.writeString(java, FAKE_JAVA);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwx------"));
        return home;
    }

    private static List<String> launch(Path dir, String... args) throws Exception {
        return launch(dir, new StringBuilder(), args);
    }

    private static List<String> launch(Path dir, StringBuilder output, String... args) throws Exception {
        return launch(dir, output, java.util.Map.of(), args);
    }

    private static List<String> launch(Path dir, StringBuilder output, java.util.Map<String, String> env, String... args)
            throws Exception {
        Files.deleteIfExists(dir.resolve("calls"));
        ProcessBuilder pb = new ProcessBuilder("sh", Path.of("bin/containerd-shim-urunc-v2").toAbsolutePath().toString());
        pb.command().addAll(List.of(args));
        pb.environment().put("URUNC_HOME", dir.resolve("home").toString());
        pb.environment().put("URUNC_JAVA", dir.resolve("java").toString());
        pb.environment().put("URUNC_CONFIG_FILE", dir.resolve("config.toml").toString());
        pb.environment().remove("URUNC_DAEMON_JAVA_OPTS");
        pb.environment().remove("URUNC_AOT_ASLR");
        pb.environment().putAll(env);
        Files.writeString(dir.resolve("config.toml"), "[shim]\nstate_dir = \"" + dir.resolve("state") + "\"\n");
        pb.directory(Files.createDirectories(dir.resolve("bundle")).toFile());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        output.append(out);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return Files.readAllLines(dir.resolve("calls"));
    }

    @Test
    void coldStartSpawnsTheDaemonDirectlyWithStartCommandsOptions(@TempDir Path dir) throws Exception {
        Path home = home(dir);
        String classpath = home.resolve("lib/a.jar") + ":" + home.resolve("lib/b.jar");
        launch(dir, "aot-train");
        String address = dir.resolve("containerd.sock").toString();
        DaemonAddress daemon = DaemonAddress.of(address, "ns1", "", dir.resolve("state"));
        StringBuilder out = new StringBuilder();

        List<String> calls = launch(dir, out, "-namespace", "ns1", "-address", address, "-publish-binary", "/usr/bin/containerd",
                "-id", "c1", "start");

        assertEquals("unix://" + daemon.socket(), out.toString(), "the address, nothing else");
        assertEquals("unix://" + daemon.socket(), Files.readString(dir.resolve("bundle/address")));
        assertEquals(1, calls.size(), "one JVM: the daemon's, no Java start: " + calls);
        String call = calls.getFirst();
        String launcherOptions = call.substring(call.indexOf("env=") + 4);
        String options = call.substring(0, call.indexOf(" -cp "));
        assertEquals(String.join(" ", StartCommand.daemonJvmOptions(java.util.Map.of("URUNC_JVM_OPTIONS", launcherOptions))),
                options, "the daemon the launcher spawns runs as the one Java's start spawns");
        assertTrue(options.contains("-XX:AOTCache="), options);
        assertEquals("-cp " + classpath + " io.urunc.shim.Main -namespace ns1 -address " + address
                + " -publish-binary /usr/bin/containerd -socket " + daemon.socket() + " -id c1 daemon",
                call.substring(call.indexOf(" -cp ") + 1, call.indexOf(" | env=")));
        assertTrue(Files.exists(daemon.wantedFile()), "marked wanted before the daemon could decide to leave");
        assertFalse(Files.list(daemon.pidFile().getParent()).anyMatch(f -> f.toString().endsWith(".ready")),
                "its readiness pipe is gone");
    }

    @Test
    void cacheIsRecordedThenUsedUntilAJarChanges(@TempDir Path dir) throws Exception {
        Path home = home(dir);
        String classpath = home.resolve("lib/a.jar") + ":" + home.resolve("lib/b.jar");
        String cacheOption = "-XX:AOTCache=" + home.resolve("urunc.aot");

        assertFalse(launch(dir, "-version").getFirst().contains("AOTCache"), "no cache yet: none is passed");

        List<String> training = launch(dir, "aot-train");
        assertEquals(2, training.size(), training.toString());
        assertTrue(training.get(0).contains("-XX:AOTMode=record") && training.get(0).contains(" train "), training.get(0));
        assertTrue(training.get(0).contains("-cp " + classpath + " "), "the jars in a fixed order: " + training.get(0));
        assertTrue(training.get(1).contains("-XX:AOTMode=create"), training.get(1));
        assertTrue(Files.exists(home.resolve("urunc.aot")) && Files.exists(home.resolve("urunc.aot.stamp")));

        String used = launch(dir, "-version").getFirst();
        assertTrue(used.contains(" " + cacheOption + " ") && used.contains(" -cp " + classpath + " io.urunc.shim.Main -version"), used);
        assertTrue(used.endsWith("env=" + used.substring(0, used.indexOf(" -cp "))),
                "the daemon is given the very options of this JVM, cache included: " + used);

        // a rebuilt jar of the same size: only its mtime tells
        Files.setLastModifiedTime(home.resolve("lib/a.jar"), FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertFalse(launch(dir, "-version").getFirst().contains("AOTCache"), "a changed jar: the cache is not used");

        launch(dir, "aot-train");
        assertTrue(launch(dir, "-version").getFirst().contains(cacheOption), "trained again: used again");
        Files.writeString(home.resolve("lib/c.jar"), "c");
        assertFalse(launch(dir, "-version").getFirst().contains("AOTCache"), "an added jar: the cache is not used");
    }

    /** The cache is mapped at its own address unless URUNC_AOT_ASLR=1 (README, "Start-up and memory"). */
    @Test
    void theCacheIsMappedAtItsOwnAddressUnlessAslrIsAskedFor(@TempDir Path dir) throws Exception {
        home(dir);
        String fixed = "-XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0";
        assertFalse(launch(dir, "-version").getFirst().contains("ArchiveRelocationMode"), "no cache: nothing to map");
        launch(dir, "aot-train");
        String used = launch(dir, "-version").getFirst();
        assertTrue(used.contains("-XX:AOTCache=") && used.contains(fixed + " -cp "), used);
        String aslr = launch(dir, new StringBuilder(), java.util.Map.of("URUNC_AOT_ASLR", "1"), "-version").getFirst();
        assertTrue(aslr.contains("-XX:AOTCache="), aslr);
        assertFalse(aslr.contains("ArchiveRelocationMode"), "the JDK's random mapping: " + aslr);
        assertTrue(launch(dir, new StringBuilder(), java.util.Map.of("URUNC_AOT_ASLR", "1"), "aot-train").stream()
                .noneMatch(c -> c.contains("ArchiveRelocationMode")), "the training never has it");
    }

    @Test
    void daemonGetsTheLauncherOptionsAndLogsJvmWarningsToItsLog() {
        List<String> options = StartCommand.daemonJvmOptions(java.util.Map.of("URUNC_JVM_OPTIONS", "-Xmx64m -XX:AOTCache=/x.aot"));
        assertEquals(List.of("-Xmx64m", "-XX:AOTCache=/x.aot", "-Xlog:all=warning:stderr"), options);
        assertEquals(List.of("-Xmx1g"), StartCommand.daemonJvmOptions(java.util.Map.of("URUNC_DAEMON_JAVA_OPTS", " -Xmx1g ",
                "URUNC_JVM_OPTIONS", "-Xmx64m")), "URUNC_DAEMON_JAVA_OPTS replaces them");
    }
}
