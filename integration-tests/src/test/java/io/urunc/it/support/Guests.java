package io.urunc.it.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** The project's test guests and their OCI images (guests/build.sh, guests/build-images.sh), built once. */
public final class Guests {
    public static final String TINY = "urunc.test/tiny:latest";
    public static final String HELLO = "urunc.test/hello:latest";
    public static final String HTTPD = "urunc.test/httpd:latest";
    /** The Linux guest with an ext4 block image in the image, mounted at /srv (guests/images/block). */
    public static final String BLOCK = "urunc.test/block:latest";
    /** The Linux guest that boots into its container rootfs over virtiofs (mountRootfs; guests/images/rootfs). */
    public static final String ROOTFS = "urunc.test/rootfs:latest";

    private static volatile boolean built;

    private Guests() {}

    public static Path images() {
        return Containerd.REPO.resolve("guests/out/images");
    }

    public static synchronized void build() {
        if (built) return;
        Map<String, String> env = Map.of("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64");
        Exec.run(Duration.ofMinutes(10), env, Containerd.REPO.resolve("guests/build.sh").toString()).ok();
        Exec.run(Duration.ofMinutes(10), env, Containerd.REPO.resolve("guests/build-images.sh").toString()).ok();
        for (String name : new String[] {"tiny", "hello", "httpd", "block", "rootfs"}) {
            if (!Files.exists(images().resolve(name + ".tar"))) throw new IllegalStateException(name + ".tar not built");
        }
        built = true;
    }

    /** Imports the test images into the containerd namespace. */
    public static void importInto(Containerd containerd, String namespace, String... names) {
        build();
        for (String name : names) {
            containerd.ctr(Duration.ofMinutes(2), "-n", namespace, "images", "import",
                    images().resolve(name + ".tar").toString()).ok();
        }
    }
}
