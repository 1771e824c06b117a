package io.urunc.vmm.cloudhypervisor;

import io.urunc.vmm.Accelerator;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.Hypervisors;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.NetAttachment;
import io.urunc.vmm.UnikernelTypes;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmControl;
import io.urunc.vmm.VmResources;
import io.urunc.vmm.VmmException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Cloud Hypervisor is not installable here: golden tests of the command line it documents
 * ({@code cloud-hypervisor --help}) and of its REST API calls, against a fake API server on a unix socket.
 */
class CloudHypervisorTest {
    private final CloudHypervisor ch = new CloudHypervisor();
    private FakeApi api;

    @AfterEach
    void stop() throws IOException {
        if (api != null) api.close();
    }

    private static VmConfig config(Optional<Path> initrd, Optional<NetAttachment> net, List<BlockDevice> blocks, boolean seccomp, Path runDir) {
        return new VmConfig("vm1", Path.of("/usr/local/bin/cloud-hypervisor"), Path.of("/run/u/vm1/kernel"), initrd,
                "console=ttyS0 panic=-1 rdinit=/init", new VmResources(256, 2), Accelerator.KVM, net, blocks, List.of(), runDir, seccomp);
    }

    @Test
    void goldenCommandLineWithInitramfsNicAndDisks() throws Exception {
        LaunchPlan plan = ch.plan(config(Optional.of(Path.of("/run/u/vm1/initrd")), Optional.of(new NetAttachment("tap0_urunc", "02:00:00:00:00:07")),
                List.of(new BlockDevice("rootfs", Path.of("/img/root.raw"), false), new BlockDevice("data", Path.of("/img/d.raw"), true)),
                true, Path.of("/run/u/vm1")));
        assertEquals(List.of("/usr/local/bin/cloud-hypervisor",
                "--kernel", "/run/u/vm1/kernel",
                "--cmdline", "console=ttyS0 panic=-1 rdinit=/init",
                "--initramfs", "/run/u/vm1/initrd",
                "--memory", "size=256M",
                "--cpus", "boot=2",
                "--console", "off", "--serial", "tty",
                "--net", "tap=tap0_urunc,mac=02:00:00:00:00:07",
                "--disk", "path=/img/root.raw,id=rootfs",
                "--disk", "path=/img/d.raw,id=data,readonly=on",
                "--api-socket", "path=/run/u/vm1/ch.sock",
                "--seccomp", "true"), plan.argv());
        assertEquals(Optional.of(Path.of("/run/u/vm1/ch.sock")), plan.controlSocket());
        assertTrue(plan.filesToWrite().isEmpty());
    }

    @Test
    void minimalCommandLineHasNoNicDiskOrInitramfsAndSeccompCanBeTurnedOff() throws Exception {
        List<String> a = ch.plan(config(Optional.empty(), Optional.empty(), List.of(), false, Path.of("/r"))).argv();
        assertEquals(List.of("/usr/local/bin/cloud-hypervisor", "--kernel", "/run/u/vm1/kernel", "--cmdline", "console=ttyS0 panic=-1 rdinit=/init",
                "--memory", "size=256M", "--cpus", "boot=2", "--console", "off", "--serial", "tty",
                "--api-socket", "path=/r/ch.sock", "--seccomp", "false"), a);
    }

    @Test
    void itBootsAtOnceSoThePlanIsNotHeldAndTheShimStartsItAtStart() throws Exception {
        LaunchPlan plan = ch.plan(config(Optional.empty(), Optional.empty(), List.of(), true, Path.of("/r")));
        LaunchPlan held = ch.holdGuest(plan);
        assertFalse(held.guestHeld());
        assertEquals(plan.argv(), held.argv());
    }

    @Test
    void commasInsideItsCommaSeparatedOptionsAreRefusedNamingThePath() {
        var e = assertThrows(VmmException.class, () -> ch.plan(config(Optional.empty(), Optional.empty(),
                List.of(new BlockDevice("d", Path.of("/img/a,path=/etc/shadow"), false)), true, Path.of("/r"))));
        assertTrue(e.getMessage().contains("disk path /img/a,path=/etc/shadow contains ','"), e.getMessage());
        e = assertThrows(VmmException.class, () -> ch.plan(config(Optional.empty(), Optional.empty(), List.of(), true, Path.of("/r,x"))));
        assertTrue(e.getMessage().startsWith("API socket path /r,x/ch.sock contains ','"), e.getMessage());
    }

    @Test
    void tcgAndOverlongSocketPathsAreRefused() {
        VmConfig tcg = new VmConfig("vm", Path.of("cloud-hypervisor"), Path.of("/k"), Optional.empty(), "", new VmResources(64, 1),
                Accelerator.TCG, Optional.empty(), List.of(), List.of(), Path.of("/r"), true);
        var e = assertThrows(VmmException.class, () -> ch.plan(tcg));
        assertTrue(e.getMessage().contains("KVM only"), e.getMessage());
        e = assertThrows(VmmException.class, () -> ch.plan(config(Optional.empty(), Optional.empty(), List.of(), true, Path.of("/" + "d".repeat(110)))));
        assertTrue(e.getMessage().contains("unix socket paths are limited to 107 bytes"), e.getMessage());
    }

    @Test
    void registeredUnderUruncsNameAndRunsLinuxGuestsOnly() throws Exception {
        assertEquals("cloud-hypervisor", Hypervisors.byName("cloud-hypervisor").name());
        assertEquals("cloud-hypervisor", ch.defaultBinary());
        assertTrue(UnikernelTypes.byName("linux").hypervisors().contains("cloud-hypervisor"));
        for (String type : List.of("unikraft", "rumprun", "mirage", "mewz", "hermit"))
            assertFalse(UnikernelTypes.byName(type).hypervisors().contains("cloud-hypervisor"), type);
        assertEquals(0, ch.containerExitCode(0));
        assertEquals(1, ch.containerExitCode(1));
    }

    @Test
    void pauseResumeAndPowerButtonAreBodilessPutsOnItsApiSocket(@TempDir Path dir) throws Exception {
        api = FakeApi.start(dir.resolve("ch.sock"), Map.of());
        try (VmControl c = ch.control(plan(dir)).orElseThrow()) {
            c.pause();
            c.resume();
            c.powerdown();
        }
        assertEquals(List.of("PUT /api/v1/vm.pause HTTP/1.1", "PUT /api/v1/vm.resume HTTP/1.1", "PUT /api/v1/vm.power-button HTTP/1.1"),
                api.requestLines());
        for (String head : api.heads) {
            assertTrue(head.contains("\r\nHost: localhost\r\n"), head);
            assertTrue(head.contains("\r\nContent-Length: 0\r\n"), head);
        }
    }

    @Test
    void pingWaitsForTheBootedVmNotJustTheSocket(@TempDir Path dir) throws Exception {
        api = FakeApi.start(dir.resolve("ch.sock"), Map.of("vm.info", "500 Internal Server Error\r\n\r\n{\"error\":\"VM is not created\"}"));
        VmControl c = ch.control(plan(dir)).orElseThrow();
        var e = assertThrows(IOException.class, c::ping);
        assertTrue(e.getMessage().contains("not booted yet") && e.getMessage().contains("VM is not created"), e.getMessage());
        api.answers.put("vm.info", "200 OK\r\nContent-Type: application/json\r\n\r\n{\"config\":{},\"state\":\"Created\"}");
        e = assertThrows(IOException.class, c::ping);
        assertTrue(e.getMessage().contains("state Created"), e.getMessage());
        api.answers.put("vm.info", "200 OK\r\nContent-Type: application/json\r\n\r\n{\"config\":{\"cpus\":{\"boot_vcpus\":1}},\"state\":\"Running\"}");
        c.ping();
        assertEquals("GET /api/v1/vm.info HTTP/1.1", api.requestLines().getLast());
    }

    @Test
    void anApiErrorNamesTheActionStatusAndItsWords(@TempDir Path dir) throws Exception {
        api = FakeApi.start(dir.resolve("ch.sock"), Map.of("vm.resume", "500 Internal Server Error\r\n\r\n{\"error\":\"VM is not paused\"}"));
        var e = assertThrows(IOException.class, () -> ch.control(plan(dir)).orElseThrow().resume());
        assertEquals("cloud-hypervisor PUT /api/v1/vm.resume failed: HTTP 500: {\"error\":\"VM is not paused\"}", e.getMessage());
    }

    @Test
    void aSilentApiTimesOutInsteadOfHanging(@TempDir Path dir) throws Exception {
        api = FakeApi.start(dir.resolve("ch.sock"), Map.of("vm.pause", FakeApi.NEVER));
        var control = new CloudHypervisor.Api(dir.resolve("ch.sock"), Duration.ofMillis(300));
        long t0 = System.nanoTime();
        var e = assertThrows(IOException.class, control::pause);
        assertTrue(e.getMessage().contains("did not answer PUT /api/v1/vm.pause within 300 ms"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(3).toNanos());
    }

    @Test
    void noApiSocketIsAnIoErrorTheShimRetriesOn(@TempDir Path dir) {
        assertThrows(IOException.class, () -> ch.control(plan(dir)).orElseThrow().ping());
    }

    private LaunchPlan plan(Path runDir) throws VmmException {
        return ch.plan(config(Optional.empty(), Optional.empty(), List.of(), true, runDir));
    }

    /**
     * Records each request's head and answers it: 204 No Content unless {@code answers} has an answer
     * ("status line rest + headers + blank line + body", Content-Length added) for its action.
     */
    static final class FakeApi implements AutoCloseable {
        static final String NEVER = "never";
        final List<String> heads = new CopyOnWriteArrayList<>();
        final Map<String, String> answers = new ConcurrentHashMap<>();
        private final ServerSocketChannel server;
        private final Thread acceptor;

        private FakeApi(ServerSocketChannel server, Map<String, String> answers) {
            this.server = server;
            this.answers.putAll(answers);
            this.acceptor = Thread.ofVirtual().start(this::serve);
        }

        static FakeApi start(Path socket, Map<String, String> answers) throws IOException {
            ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            s.bind(UnixDomainSocketAddress.of(socket));
            return new FakeApi(s, answers);
        }

        List<String> requestLines() {
            return heads.stream().map(h -> h.substring(0, h.indexOf("\r\n"))).toList();
        }

        private void serve() {
            try {
                while (true) {
                    SocketChannel conn = server.accept();
                    Thread.ofVirtual().start(() -> answer(conn));
                }
            } catch (IOException closed) {
                // test over
            }
        }

        private void answer(SocketChannel conn) {
            try (conn; InputStream in = Channels.newInputStream(conn); OutputStream out = Channels.newOutputStream(conn)) {
                ByteArrayOutputStream head = new ByteArrayOutputStream();
                while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) return;
                    head.write(b);
                }
                String h = head.toString(StandardCharsets.ISO_8859_1);
                heads.add(h);
                String path = h.substring(h.indexOf(' ') + 1, h.indexOf(" HTTP/"));
                String answer = answers.get(path.substring(path.lastIndexOf('/') + 1));
                if (NEVER.equals(answer)) {
                    Thread.sleep(5_000);
                    return;
                }
                if (answer == null) {
                    out.write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                } else {
                    int split = answer.indexOf("\r\n\r\n");
                    byte[] body = answer.substring(split + 4).getBytes(StandardCharsets.UTF_8);
                    out.write(("HTTP/1.1 " + answer.substring(0, split) + "\r\nContent-Length: " + body.length + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                }
                // keep-alive, as its HTTP server may: the client must not wait for the close
                while (in.read() >= 0) { }
            } catch (IOException | InterruptedException ignored) {
                // client went away
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            acceptor.interrupt();
        }
    }
}
