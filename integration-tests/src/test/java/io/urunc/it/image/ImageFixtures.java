package io.urunc.it.image;

import io.urunc.builder.BuildRequest;
import io.urunc.builder.BuiltImage;
import io.urunc.builder.ImageBuilder;
import io.urunc.builder.ImageReference;
import io.urunc.builder.OutputFormat;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Mounts;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Builds small urunc images with the builder and runs the real tools (containerd, registry) they go into. */
final class ImageFixtures {
    static final String CONTAINERFILE = """
            FROM scratch
            COPY kernel /unikernel/app.elf
            COPY data/ /data/
            LABEL com.urunc.unikernel.unikernelType=unikraft \\
                  com.urunc.unikernel.hypervisor=qemu \\
                  com.urunc.unikernel.binary=/unikernel/app.elf \\
                  com.urunc.unikernel.cmdline="app --port 80"
            LABEL org.opencontainers.image.title="urunc-build IT"
            """;
    static final Map<String, String> LABELS = Map.of(
            "com.urunc.unikernel.unikernelType", "unikraft",
            "com.urunc.unikernel.hypervisor", "qemu",
            "com.urunc.unikernel.binary", "/unikernel/app.elf",
            "com.urunc.unikernel.cmdline", "app --port 80",
            "org.opencontainers.image.title", "urunc-build IT");

    private ImageFixtures() {}

    /** A build context with a fake x86-64 ELF "kernel" and a data directory; returns the Containerfile. */
    static Path context(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("data/sub"));
        byte[] elf = new byte[4096];
        elf[0] = 0x7f; elf[1] = 'E'; elf[2] = 'L'; elf[3] = 'F'; elf[18] = 0x3e;
        Files.write(dir.resolve("kernel"), elf);
        Files.writeString(dir.resolve("data/sub/hello.txt"), "hello from the image\n");
        Path cf = dir.resolve("Containerfile");
        Files.writeString(cf, CONTAINERFILE);
        return cf;
    }

    static BuiltImage build(Path contextDir, String name, OutputFormat format, Path output) throws Exception {
        Path cf = context(contextDir);
        BuildRequest req = new BuildRequest(ImageReference.parse(name), cf, contextDir, Map.of(), format, output, 0, true);
        return new ImageBuilder(new PrintStream(new ByteArrayOutputStream()), true).build(req);
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static boolean hasCommand(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, name))) return true;
        }
        return false;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void deleteTree(Path p) {
        if (p == null || !Files.exists(p)) return;
        Mounts.unmountUnder(p);
        try (var walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }

    static void stop(Process p) throws InterruptedException {
        if (p == null) return;
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** A private containerd without CRI in {@code dir}; close() stops it and removes the directory. */
    static final class PrivateContainerd implements AutoCloseable {
        final Path dir;
        final Path socket;
        private final Process process;

        PrivateContainerd(Path dir) throws Exception {
            this.dir = dir;
            this.socket = dir.resolve("containerd.sock");
            Path config = dir.resolve("config.toml");
            Files.writeString(config, """
                    version = 2
                    disabled_plugins = ["io.containerd.grpc.v1.cri"]
                    """);
            process = new ProcessBuilder("containerd", "--root", dir.resolve("root").toString(),
                    "--state", dir.resolve("state").toString(), "--address", socket.toString(),
                    "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("containerd.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(socket) || ctr("version").exit() != 0) {
                if (!process.isAlive()) throw new IllegalStateException("containerd died: " + Files.readString(dir.resolve("containerd.log")));
                if (System.nanoTime() > deadline) throw new IllegalStateException("containerd not ready");
                Thread.sleep(50);
            }
        }

        Exec.Result ctr(String... args) {
            List<String> cmd = new ArrayList<>(List.of("ctr", "--address", socket.toString()));
            cmd.addAll(List.of(args));
            return Exec.run(Duration.ofSeconds(120), Map.of(), cmd);
        }

        @Override
        public void close() throws Exception {
            stop(process);
            deleteTree(dir);
        }
    }
}
