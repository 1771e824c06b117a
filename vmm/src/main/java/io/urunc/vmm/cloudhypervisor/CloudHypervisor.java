package io.urunc.vmm.cloudhypervisor;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.vmm.Accelerator;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.SharedDirectory;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmControl;
import io.urunc.vmm.VmmException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Cloud Hypervisor ({@code cloud-hypervisor}, urunc's name for it) with direct kernel boot:
 * {@code --kernel --cmdline [--initramfs] --memory size=<MB>M --cpus boot=N --console off --serial tty
 * [--net tap=,mac=] [--disk path=]... [--fs tag=,socket=]... --api-socket path=<runDir>/ch.sock --seccomp true|false}. The guest console is
 * the serial port on the VMM's stdio. It boots as soon as it starts (its command line has no way to hold the
 * guest), so the shim starts it at Start. Pause, resume and the power button go through its REST API
 * ({@link Api}); it runs on KVM only and exits 0 when the guest powers off.
 */
public final class CloudHypervisor implements Hypervisor {
    public static final String API_SOCKET = "ch.sock";
    /** sun_path is 108 bytes including the terminating NUL. */
    private static final int MAX_UNIX_SOCKET_PATH = 107;

    @Override public String name() { return "cloud-hypervisor"; }

    @Override public boolean sharesDirectories() { return true; }

    @Override public String defaultBinary() { return "cloud-hypervisor"; }

    /** Fails under TCG (Cloud Hypervisor has no emulator) and for paths it would split at a comma. */
    @Override
    public LaunchPlan plan(VmConfig c) throws VmmException {
        if (c.accelerator() != Accelerator.KVM)
            throw new VmmException("cloud-hypervisor runs guests on KVM only, not " + c.accelerator() + " (set [monitors.cloud-hypervisor] accelerator = \"kvm\" or \"auto\")");
        Path api = c.runDir().resolve(API_SOCKET);
        int apiLength = api.toString().getBytes(StandardCharsets.UTF_8).length;
        if (apiLength > MAX_UNIX_SOCKET_PATH)
            throw new VmmException("API socket path " + api + " is " + apiLength + " bytes; unix socket paths are limited to "
                    + MAX_UNIX_SOCKET_PATH + " bytes: use a shorter runDir");
        List<String> a = new ArrayList<>();
        a.add(c.hypervisorBinary().toString());
        a.addAll(List.of("--kernel", c.kernel().toString()));
        a.addAll(List.of("--cmdline", c.kernelCmdline()));
        c.initrd().ifPresent(i -> a.addAll(List.of("--initramfs", i.toString())));
        // virtiofsd maps guest memory: it must be shared
        a.addAll(List.of("--memory", "size=" + c.resources().memoryMb() + "M" + (c.sharedDirs().isEmpty() ? "" : ",shared=on")));
        a.addAll(List.of("--cpus", "boot=" + c.resources().vcpus()));
        a.addAll(List.of("--console", "off", "--serial", "tty"));
        if (c.net().isPresent()) {
            var n = c.net().get();
            a.addAll(List.of("--net", "tap=" + option(n.tapName(), "tap device name") + ",mac=" + option(n.mac(), "MAC address")));
        }
        for (BlockDevice b : c.blocks())
            a.addAll(List.of("--disk", "path=" + option(b.pathForVmm().toString(), "disk path") + ",id=" + b.id() + (b.readOnly() ? ",readonly=on" : "")));
        for (SharedDirectory d : c.sharedDirs())
            a.addAll(List.of("--fs", "tag=" + d.tag() + ",socket=" + option(d.socket().toString(), "virtiofs socket path")));
        a.addAll(List.of("--api-socket", "path=" + option(api.toString(), "API socket path")));
        a.addAll(List.of("--seccomp", Boolean.toString(c.seccomp())));
        a.addAll(c.typeExtraArgs());
        return new LaunchPlan(a, Map.of(), Optional.of(api));
    }

    /**
     * A value inside one of its {@code key=value,key=value} options: it has no escape for a comma, so a comma
     * would end the value and start another option.
     */
    private static String option(String value, String what) throws VmmException {
        if (value.indexOf(',') >= 0)
            throw new VmmException(what + " " + value + " contains ',', which cloud-hypervisor would parse as the start of another option: give it one without");
        return value;
    }

    /** Its exit status: 0 when the guest powered off, non-zero for its own errors. */
    @Override public int containerExitCode(int vmmExitStatus) { return vmmExitStatus; }

    @Override
    public Optional<VmControl> control(LaunchPlan plan) {
        return plan.controlSocket().map(s -> new Api(s, Duration.ofSeconds(5)));
    }

    /**
     * Cloud Hypervisor's REST API: HTTP/1.1 on its unix socket, one connection per request, every action a
     * bodiless {@code PUT /api/v1/<action>} answered 2xx on success.
     */
    public static final class Api implements VmControl {
        private static final ObjectMapper JSON = new ObjectMapper();
        /** Its answers are a status line, a few headers and at most a VmInfo document. */
        private static final int MAX_RESPONSE_BYTES = 1 << 20;

        private final Path socket;
        private final Duration timeout;

        public Api(Path socket, Duration timeout) {
            this.socket = socket;
            this.timeout = timeout;
        }

        @Override public void pause() throws IOException { put("vm.pause"); }

        @Override public void resume() throws IOException { put("vm.resume"); }

        @Override public void powerdown() throws IOException { put("vm.power-button"); }

        @Override public void quit() throws IOException { put("vmm.shutdown"); }

        /**
         * Answers once the VM has booted: the API is up before Cloud Hypervisor has created the VM and loaded the
         * kernel from its command line, and the caller may remove the kernel file once this returns.
         */
        @Override
        public void ping() throws IOException {
            Response r = exchange("GET", "vm.info");
            String state = r.ok() ? JSON.readTree(r.body()).path("state").asText() : "not created";
            if (!state.equals("Running") && !state.equals("Paused"))
                throw new IOException("cloud-hypervisor VM is not booted yet (" + (r.ok() ? "state " + state : "HTTP " + r.status() + ": " + r.body().strip()) + ")");
        }

        @Override public void close() {}

        private void put(String action) throws IOException {
            Response r = exchange("PUT", action);
            if (!r.ok())
                throw new IOException("cloud-hypervisor PUT /api/v1/" + action + " failed: HTTP " + r.status()
                        + (r.body().isBlank() ? "" : ": " + r.body().strip()));
        }

        record Response(int status, String body) {
            boolean ok() { return status >= 200 && status < 300; }
        }

        Response exchange(String method, String action) throws IOException {
            String request = method + " /api/v1/" + action + " HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
                    + "Content-Length: 0\r\nConnection: close\r\n\r\n";
            long deadline = System.nanoTime() + timeout.toNanos();
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX); Selector selector = Selector.open()) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                ch.configureBlocking(false);
                ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
                while (out.hasRemaining()) {
                    await(ch, selector, SelectionKey.OP_WRITE, deadline, method, action);
                    ch.write(out);
                }
                return readResponse(ch, selector, deadline, method, action);
            }
        }

        /** Reads one response; a keep-alive server may leave the connection open after it. */
        private Response readResponse(SocketChannel ch, Selector selector, long deadline, String method, String action) throws IOException {
            String what = method + " /api/v1/" + action;
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            int headerEnd = -1;
            int status = 0;
            long contentLength = -1;
            while (headerEnd < 0 || contentLength < 0 || got.size() - headerEnd < contentLength) {
                await(ch, selector, SelectionKey.OP_READ, deadline, method, action);
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    if (headerEnd >= 0 && contentLength < 0) break;   // body delimited by the close
                    throw new IOException("cloud-hypervisor closed the API connection before answering " + what);
                }
                got.write(buf.array(), 0, n);
                if (got.size() > MAX_RESPONSE_BYTES)
                    throw new IOException("cloud-hypervisor answered " + what + " with more than " + MAX_RESPONSE_BYTES + " bytes");
                if (headerEnd < 0) {
                    String sofar = got.toString(StandardCharsets.ISO_8859_1);
                    int end = sofar.indexOf("\r\n\r\n");
                    if (end < 0) continue;
                    headerEnd = end + 4;
                    String head = sofar.substring(0, end);
                    status = status(head.lines().findFirst().orElse(""), what);
                    contentLength = status == 204 || status == 304 || status < 200 ? 0 : contentLength(head);
                }
            }
            byte[] bytes = got.toByteArray();
            int bodyLength = (int) (contentLength >= 0 ? Math.min(contentLength, bytes.length - headerEnd) : bytes.length - headerEnd);
            return new Response(status, new String(bytes, headerEnd, bodyLength, StandardCharsets.UTF_8));
        }

        private static int status(String statusLine, String what) throws IOException {
            String[] parts = statusLine.split(" ", 3);
            try {
                if (parts.length >= 2 && parts[0].startsWith("HTTP/1.")) return Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IOException("cloud-hypervisor answered " + what + " with a malformed status line: " + statusLine);
        }

        private static long contentLength(String head) throws IOException {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                    try {
                        return Long.parseLong(line.substring(colon + 1).trim());
                    } catch (NumberFormatException e) {
                        throw new IOException("cloud-hypervisor sent a malformed Content-Length: " + line);
                    }
                }
            }
            return -1;
        }

        private void await(SocketChannel ch, Selector selector, int op, long deadline, String method, String action) throws IOException {
            SelectionKey key = ch.register(selector, op);
            while (selector.select(Math.max(1, (deadline - System.nanoTime()) / 1_000_000)) == 0) {
                if (System.nanoTime() >= deadline)
                    throw new IOException("cloud-hypervisor did not answer " + method + " /api/v1/" + action + " within " + timeout.toMillis() + " ms");
            }
            selector.selectedKeys().clear();
            key.interestOps(0);
        }
    }
}
