package io.urunc.it.cri;

import io.grpc.StatusRuntimeException;
import io.urunc.it.cri.api.ContainerConfig;
import io.urunc.it.cri.api.ContainerState;
import io.urunc.it.cri.api.ContainerStatus;
import io.urunc.it.cri.api.ImageSpec;
import io.urunc.it.cri.api.ImageStatusRequest;
import io.urunc.it.cri.api.PodSandboxConfig;
import io.urunc.it.cri.api.PodSandboxState;
import io.urunc.it.support.Cri;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Http;
import io.urunc.it.support.PlainImages;
import io.urunc.it.support.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Kubernetes pods through containerd's CRI, as a kubelet drives them: a runc pod proves the fixture (pause image,
 * CNI bridge, logs, exit codes); pods with runtime handler {@code urunc} run unikernel containers next to a pause
 * container the shim hands to runc, and must leave nothing behind.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CriPodIT {
    @Parameter
    Stack stack;
    private static final Duration GUEST_LIMIT = Duration.ofSeconds(90);
    private Cri cri;

    @BeforeParameterizedClassInvocation
    void start() throws Exception {
        cri = Cri.start(stack);
        cri.importGuests("hello", "httpd");
    }

    @AfterParameterizedClassInvocation
    void stop() {
        if (cri != null) cri.close();
    }

    @Test
    void runcPodRunsBusyboxWithLogsExitCodesAndPodNetwork() throws Exception {
        assertTrue(cri.images().imageStatus(ImageStatusRequest.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage(PlainImages.PAUSE)).build()).hasImage(),
                "the locally built pause image is known to CRI");
        PodSandboxConfig pod = cri.podConfig("busybox-pod");
        String podId = cri.runPod(pod, Cri.RUNC);
        try {
            assertEquals(PodSandboxState.SANDBOX_READY, cri.podStatus(podId, false).getStatus().getState());
            String podIp = cri.podIp(podId);
            assertTrue(podIp.startsWith(cri.gateway().substring(0, cri.gateway().lastIndexOf('.') + 1)),
                    "pod IP " + podIp + " is on the fixture's bridge subnet");

            ContainerConfig hello = Cri.containerConfig("hello", PlainImages.BUSYBOX,
                    List.of("/bin/busybox", "sh", "-c", "echo CRI-BUSYBOX-OK"));
            ContainerStatus done = cri.awaitState(cri.startContainer(podId, pod, hello), ContainerState.CONTAINER_EXITED,
                    Duration.ofSeconds(30));
            assertEquals(0, done.getExitCode(), done.toString());
            assertLogContains(Cri.logFile(pod, hello), "CRI-BUSYBOX-OK");

            ContainerConfig failing = Cri.containerConfig("failing", PlainImages.BUSYBOX,
                    List.of("/bin/busybox", "sh", "-c", "exit 3"));
            ContainerStatus failed = cri.awaitState(cri.startContainer(podId, pod, failing),
                    ContainerState.CONTAINER_EXITED, Duration.ofSeconds(30));
            assertEquals(3, failed.getExitCode(), failed.toString());

            ContainerConfig web = Cri.containerConfig("web", PlainImages.BUSYBOX, List.of("/bin/busybox", "sh", "-c",
                    "mkdir -p /www && echo CRI-BUSYBOX-HTTPD-OK > /www/index.html"
                            + " && exec /bin/busybox httpd -f -p 80 -h /www"));
            cri.startContainer(podId, pod, web);
            assertTrue(Http.getWithin(Duration.ofSeconds(30), "http://" + podIp + "/", cri::diagnostics).contains("CRI-BUSYBOX-HTTPD-OK"));
            List<String> running = cri.leftovers();
            assertTrue(running.stream().anyMatch(l -> l.startsWith("netns ")) && running.stream()
                    .anyMatch(l -> l.startsWith("runc container ")) && running.stream()
                    .anyMatch(l -> l.startsWith("IP allocation ")), "the leak check sees a live pod: " + running);
        } finally {
            cri.removePod(podId);
        }
        assertNothingLeft();
    }

    @Test
    void uruncPodRunsTheHelloGuestToCompletion() throws Exception {
        PodSandboxConfig pod = cri.podConfig("hello-pod");
        String podId = runUruncPod(pod);
        try {
            ContainerConfig hello = Cri.containerConfig("hello", Guests.HELLO, List.of());
            String id = startOrFail(podId, pod, hello);
            ContainerStatus done = cri.awaitState(id, ContainerState.CONTAINER_EXITED, GUEST_LIMIT);
            assertEquals(0, done.getExitCode(), done + "\n" + cri.diagnostics());
            assertLogContains(Cri.logFile(pod, hello), "URUNC-HELLO-OK");
        } finally {
            cri.removePod(podId);
        }
        assertNothingLeft();
    }

    @Test
    void uruncPodServesHttpOnThePodIp() throws Exception {
        PodSandboxConfig pod = cri.podConfig("httpd-pod");
        String podId = runUruncPod(pod);
        try {
            String podIp = cri.podIp(podId);
            assertFalse(podIp.isEmpty(), "CRI reports the pod's IP");
            ContainerConfig httpd = Cri.containerConfig("httpd", Guests.HTTPD, List.of());
            String id = startOrFail(podId, pod, httpd);
            String body = Http.getWithin(GUEST_LIMIT, "http://" + podIp + "/", cri::diagnostics);
            assertTrue(body.contains("URUNC-HTTPD-OK"), body);
            assertEquals(ContainerState.CONTAINER_RUNNING, cri.status(id).getState());
            assertTrue(cri.podLinks(podId).contains("urt"), "the VM's tap is in the pod's netns: " + cri.podLinks(podId));
            List<String> running = cri.leftovers();
            assertTrue(running.stream().anyMatch(l -> l.startsWith("VMM ")) && running.stream()
                    .anyMatch(l -> l.startsWith("runc container ")), "the leak check sees the VM and the pause: " + running);
        } finally {
            cri.removePod(podId);
        }
        assertNothingLeft();
    }

    /**
     * An emptyDir as a kubelet makes it: a host directory bound into every container of the pod. The runc sidecar
     * and the unikernel (virtiofs) see each other's files.
     */
    @Test
    void anEmptyDirIsSharedBetweenARuncSidecarAndTheUnikernel() throws Exception {
        PodSandboxConfig pod = cri.podConfig("emptydir-pod");
        Path emptyDir = Files.createDirectories(cri.dir().resolve("pods/" + pod.getMetadata().getUid() + "/volumes/kubernetes.io~empty-dir/shared"));
        io.urunc.it.cri.api.Mount shared = io.urunc.it.cri.api.Mount.newBuilder().setContainerPath("/shared")
                .setHostPath(emptyDir.toString()).build();
        String podId = runUruncPod(pod);
        try {
            ContainerConfig sidecar = Cri.containerConfig("sidecar", PlainImages.BUSYBOX, List.of("/bin/busybox", "sh", "-c",
                    "echo written-by-the-sidecar > /shared/from-sidecar.txt; i=0; "
                            + "while [ ! -s /shared/from-guest.txt ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done; "
                            + "cat /shared/from-guest.txt")).toBuilder().addMounts(shared).build();
            ContainerConfig guest = Cri.containerConfig("guest", Guests.HELLO, List.of("/init", "/bin/sh", "-c",
                    "i=0; while [ ! -s /shared/from-sidecar.txt ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
                            + "cat /shared/from-sidecar.txt; echo written-by-the-unikernel > /shared/from-guest.txt"))
                    .toBuilder().addMounts(shared).build();
            String sidecarId = startOrFail(podId, pod, sidecar);
            String guestId = startOrFail(podId, pod, guest);
            ContainerStatus guestDone = cri.awaitState(guestId, ContainerState.CONTAINER_EXITED, GUEST_LIMIT);
            assertEquals(0, guestDone.getExitCode(), guestDone + "\n" + cri.diagnostics());
            assertLogContains(Cri.logFile(pod, guest), "mounted virtiofs vol0 on /shared rw");
            assertLogContains(Cri.logFile(pod, guest), "written-by-the-sidecar");
            ContainerStatus sidecarDone = cri.awaitState(sidecarId, ContainerState.CONTAINER_EXITED, Duration.ofSeconds(30));
            assertEquals(0, sidecarDone.getExitCode(), sidecarDone.toString());
            assertLogContains(Cri.logFile(pod, sidecar), "written-by-the-unikernel");
            assertEquals("written-by-the-unikernel\n", Files.readString(emptyDir.resolve("from-guest.txt")));
        } finally {
            cri.removePod(podId);
        }
        assertNothingLeft();
    }

    private String runUruncPod(PodSandboxConfig pod) throws Exception {
        try {
            return cri.runPod(pod, Cri.URUNC);
        } catch (StatusRuntimeException e) {
            return fail("RunPodSandbox with runtime handler urunc failed; the pod's pause container is not a unikernel"
                    + " and needs the shim's delegation to runc: " + e.getStatus() + "\n" + cri.diagnostics());
        }
    }

    private String startOrFail(String podId, PodSandboxConfig pod, ContainerConfig container) throws Exception {
        try {
            return cri.startContainer(podId, pod, container);
        } catch (StatusRuntimeException e) {
            return fail("starting " + container.getImage().getImage() + " in a urunc pod failed: " + e.getStatus()
                    + "\n" + cri.diagnostics());
        }
    }

    private void assertLogContains(Path log, String marker) throws Exception {
        // The CRI log is written by containerd's copier, which may lag the exit by a moment.
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        String content = "";
        while (System.nanoTime() < deadline) {
            content = Files.exists(log) ? Files.readString(log) : "(no " + log + ")";
            if (content.contains(marker)) return;
            Thread.sleep(100);
        }
        fail("CRI log " + log + " lacks " + marker + ":\n" + content);
    }

    private void assertNothingLeft() throws InterruptedException {
        List<String> left = cri.leftoversAfterRemoval();
        assertTrue(left.isEmpty(), "left behind after the pod was removed: " + String.join("\n", left));
    }
}
