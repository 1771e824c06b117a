package io.urunc.it.support;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The container stacks the tests run on: Debian 12's packages, and containerd 2.1 + Docker 28 from Debian forky
 * as {@code scripts/forky-stack.sh} unpacks them ({@code -Dit.forky.root=} points elsewhere). Binaries are named
 * by absolute path: a child's PATH does not choose what ProcessBuilder starts.
 */
public enum Stack {
    CONTAINERD_1_6("containerd 1.6 + docker 20.10", Path.of("/usr/bin"), Path.of("/usr/sbin")),
    CONTAINERD_2_1("containerd 2.1 + docker 28", forkyBin(), forkyBin());

    private final String description;
    private final Path bin;
    private final Path sbin;

    Stack(String description, Path bin, Path sbin) {
        this.description = description;
        this.bin = bin;
        this.sbin = sbin;
    }

    private static Path forkyBin() {
        return Path.of(System.getProperty("it.forky.root", "/opt/urunc-forky")).resolve("usr/bin");
    }

    /** containerd 2.x: config version 3, CRI in io.containerd.cri.v1.*, docker's runtimeType honoured. */
    public boolean containerd2() {
        return this == CONTAINERD_2_1;
    }

    public String containerd() {
        return bin.resolve("containerd").toString();
    }

    public String ctr() {
        return bin.resolve("ctr").toString();
    }

    public String dockerd() {
        return sbin.resolve("dockerd").toString();
    }

    public String docker() {
        return bin.resolve("docker").toString();
    }

    /**
     * What goes on PATH before the system's directories: containerd 2.x looks for containerd-shim-runc-v2 on PATH
     * before its own directory, and dockerd finds docker-init and docker-proxy there.
     */
    public String pathPrefix() {
        return containerd2() ? bin + ":" : "";
    }

    /** Fails with what to run when the stack is not there, rather than skipping silently. */
    public void requireInstalled() {
        if (!Files.isExecutable(Path.of(containerd())) || !Files.isExecutable(Path.of(dockerd()))) {
            throw new IllegalStateException(description + " is not installed at " + bin
                    + ": run scripts/deps.sh (scripts/forky-stack.sh for containerd 2.x)");
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
