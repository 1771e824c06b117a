package io.urunc.it.docker;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Dockerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Unikernels through `docker run --runtime urunc`: a private dockerd on a private containerd, real QEMU (TCG), on
 * each {@link Stack}. On Docker 28 + containerd 2.x `docker run` returns only once the shim closes its ends of the
 * stdio FIFOs: containerd's client waits for EOF on them before it deletes the task.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DockerRunIT {
    @Parameter
    Stack stack;
    private Containerd containerd;
    private Dockerd dockerd;
    private DockerChecks checks;

    @BeforeParameterizedClassInvocation
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // may build the guests first
    void startDocker() throws Exception {
        assumeTrue(Dockerd.available(), "needs root and docker.io");
        containerd = Containerd.start(stack);
        dockerd = Dockerd.start(containerd);
        dockerd.loadImages("hello", "tiny");
        checks = new DockerChecks(containerd, dockerd);
    }

    @AfterParameterizedClassInvocation
    void stopDocker() {
        if (dockerd != null) dockerd.close();
        if (containerd != null) containerd.close();
    }

    @Test
    void linuxGuestOutputAndExitCodeReachTheDockerCli() throws Exception {
        // Both Linux boots at once: they take a few seconds each under TCG.
        CompletableFuture<Exec.Result> hello = CompletableFuture.supplyAsync(
                () -> dockerd.docker(Duration.ofSeconds(75), "run", "--rm", "--runtime", Dockerd.RUNTIME, Guests.HELLO));
        CompletableFuture<Exec.Result> three = CompletableFuture.supplyAsync(
                () -> dockerd.docker(Duration.ofSeconds(75), "run", "--rm", "--runtime", Dockerd.RUNTIME, Guests.HELLO,
                        "/init", "/bin/sh", "-c", "exit 3"));
        Exec.Result h = hello.get(80, TimeUnit.SECONDS);
        assertEquals(0, h.exit(), h + checks.diagnostics());
        assertTrue(h.stdout().contains("URUNC-HELLO-OK"), h.toString());
        Exec.Result t = three.get(80, TimeUnit.SECONDS);
        assertEquals(3, t.exit(), "the command override's exit status: " + t + checks.diagnostics());
        assertTrue(t.stdout().contains("URUNC-GUEST: exit code 3"), t.toString());
        checks.assertNothingLeft();
    }

    @Test
    void unikernelExitCodeReachesTheDockerCli() throws Exception {
        Exec.Result r = dockerd.docker(Duration.ofSeconds(60), "run", "--rm", "--runtime", Dockerd.RUNTIME, Guests.TINY, "exit=5");
        assertEquals(5, r.exit(), r + checks.diagnostics());
        assertTrue(r.stdout().contains("TINY: booted"), r.toString());
        checks.assertNothingLeft();
    }

    @Test
    void runningUnikernelIsRemovedByRmForce() throws Exception {
        String id = dockerd.docker("run", "-d", "--runtime", Dockerd.RUNTIME, Guests.TINY, "run").ok().stdout().strip();
        checks.awaitLog(id, "TINY: running", Duration.ofSeconds(30));
        dockerd.docker(Duration.ofSeconds(20), "rm", "-f", id).ok();
        assertEquals("", dockerd.docker("ps", "-aq").ok().stdout().strip(), "no container is left");
        checks.assertNothingLeft();
    }

    @Test
    void detachedUnikernelIsListedStoppedAndRemoved() throws Exception {
        String id = dockerd.docker("run", "-d", "--runtime", Dockerd.RUNTIME, "--name", "tiny-detached", Guests.TINY, "run")
                .ok().stdout().strip();
        checks.awaitLog(id, "TINY: running", Duration.ofSeconds(30));
        String ps = dockerd.docker("ps", "--filter", "name=tiny-detached", "--format", "{{.ID}} {{.Status}}").ok().stdout();
        assertTrue(ps.startsWith(id.substring(0, 12) + " Up"), "docker ps shows it Up: " + ps);
        assertEquals(1, checks.qemusOfThisFixture().size(), "one QEMU runs for it: " + checks.qemusOfThisFixture());

        // The tiny guest ignores SIGTERM's ACPI power button: docker kills it after its 1 s timeout.
        dockerd.docker("stop", "-t", "1", id).ok();
        assertEquals("exited 137", dockerd.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id).ok().stdout().strip(),
                checks.diagnostics());
        dockerd.docker("rm", id).ok();
        assertEquals("", dockerd.docker("ps", "-aq").ok().stdout().strip(), "no container is left");
        checks.assertNothingLeft();
    }

    /** {@code docker run -v}: a host directory reaches the guest as a volume (virtiofs); :ro stays read-only. */
    @Test
    void aBindVolumeCarriesWhatTheGuestWritesAndARoOneRefusesWrites() throws Exception {
        java.nio.file.Path host = java.nio.file.Files.createTempDirectory(java.nio.file.Path.of("/tmp"), "uit-dvol");
        try {
            java.nio.file.Path data = java.nio.file.Files.createDirectories(host.resolve("data"));
            java.nio.file.Path conf = java.nio.file.Files.createDirectories(host.resolve("conf"));
            java.nio.file.Files.writeString(conf.resolve("app.conf"), "from-docker-host\n");
            Exec.Result r = dockerd.docker(Duration.ofSeconds(75), "run", "--rm", "--runtime", Dockerd.RUNTIME,
                    "-v", data + ":/data", "-v", conf + ":/conf:ro", Guests.HELLO, "/init", "/bin/sh", "-c",
                    "cat /conf/app.conf; echo docker-guest > /data/out.txt; echo x > /conf/x || echo RO-REFUSED");
            assertEquals(0, r.exit(), r + checks.diagnostics());
            assertTrue(r.stdout().contains("from-docker-host") && r.stdout().contains("RO-REFUSED"), r.toString());
            assertEquals("docker-guest\n", java.nio.file.Files.readString(data.resolve("out.txt")), r.toString());
            assertTrue(!java.nio.file.Files.exists(conf.resolve("x")), r.toString());
            checks.assertNothingLeft();
        } finally {
            Containerd.deleteTree(host);
        }
    }
}
