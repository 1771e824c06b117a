package io.urunc.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Ordinary (non-unikernel) images built here without a registry: a Kubernetes-style pause image (a static C
 * program) and a busybox image (Debian's static busybox), as OCI archives for {@code ctr images import}.
 */
public final class PlainImages {
    public static final String PAUSE = "urunc.test/pause:latest";
    public static final String BUSYBOX = "urunc.test/busybox:latest";

    /** Sleeps in pause(2); exits 0 on SIGINT/SIGTERM; reaps children (it is PID 1 of the pod's PID namespace). */
    private static final String PAUSE_C = """
            #include <signal.h>
            #include <string.h>
            #include <sys/wait.h>
            #include <unistd.h>

            static void stop(int sig) { (void) sig; _exit(0); }

            static void reap(int sig) {
                (void) sig;
                while (waitpid(-1, NULL, WNOHANG) > 0) {}
            }

            int main(void) {
                struct sigaction sa;
                memset(&sa, 0, sizeof sa);
                sigemptyset(&sa.sa_mask);
                sa.sa_handler = stop;
                if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) return 1;
                sa.sa_handler = reap;
                sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
                if (sigaction(SIGCHLD, &sa, NULL) < 0) return 1;
                for (;;) pause();
            }
            """;

    private PlainImages() {}

    /** Compiles the pause program with {@code gcc -static} in {@code work} and writes its image archive there. */
    public static Path pause(Path work) throws IOException {
        Files.createDirectories(work);
        Path source = work.resolve("pause.c");
        Path binary = work.resolve("pause");
        Files.writeString(source, PAUSE_C);
        Exec.run(Duration.ofSeconds(60), Map.of(), "gcc", "-static", "-Os", "-s", "-o", binary.toString(),
                source.toString()).ok();
        Path archive = work.resolve("pause.tar");
        OciArchive.write(archive, PAUSE, List.of(new OciArchive.ImageFile("/pause", 0755, Files.readAllBytes(binary))),
                List.of("/pause"), List.of());
        return archive;
    }

    /** busybox as /bin/busybox and /bin/sh (a copy: the layer writer has no links); Cmd {@code /bin/sh}. */
    public static Path busybox(Path work) throws IOException {
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isExecutable(busybox)) throw new IllegalStateException("/bin/busybox missing: install busybox-static");
        byte[] bin = Files.readAllBytes(busybox);
        Path archive = work.resolve("busybox.tar");
        OciArchive.write(archive, BUSYBOX, List.of(new OciArchive.ImageFile("/bin/busybox", 0755, bin),
                new OciArchive.ImageFile("/bin/sh", 0755, bin)), List.of(), List.of("/bin/sh"));
        return archive;
    }
}
