package io.urunc.network;

import io.urunc.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Plays the guest without a VM: opens the persistent tap by name (TUNSETIFF from a thread inside the netns,
 * as QEMU does) and answers ARP requests and ICMP echo requests for the guest IP with the guest MAC.
 */
final class TapResponder implements AutoCloseable {
    private static final long TUNSETIFF = 0x400454caL;
    private static final short IFF_TAP = 0x0002, IFF_NO_PI = 0x1000;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle READ = LINKER.downcallHandle(LINKER.defaultLookup().find("read").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = LINKER.downcallHandle(LINKER.defaultLookup().find("write").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle POLL = LINKER.downcallHandle(LINKER.defaultLookup().find("poll").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private final int fd;
    private final byte[] ip;
    private final byte[] mac;
    private final Thread loop;
    private volatile boolean stop;
    final AtomicInteger framesSeen = new AtomicInteger();
    final AtomicInteger echoReplies = new AtomicInteger();

    private TapResponder(int fd, String guestIp, String guestMac) {
        this.fd = fd;
        this.ip = toBytes(Ipv4.parse(guestIp));
        this.mac = HexFormat.ofDelimiter(":").parseHex(guestMac);
        this.loop = Thread.ofPlatform().daemon().name("tap-responder").start(this::serve);
    }

    static TapResponder start(Path netns, String tapName, String guestIp, String guestMac) throws Exception {
        int fd = NetnsExecutor.callIn(netns, () -> openTap(tapName));
        return new TapResponder(fd, guestIp, guestMac);
    }

    private static int openTap(String name) throws Exception {
        int fd = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = Libc.zeroed(a, 40);
            ifr.setString(0, name);
            ifr.set(JAVA_SHORT, 16, (short) (IFF_TAP | IFF_NO_PI));
            Libc.ioctl(fd, TUNSETIFF, ifr);
            return fd;
        } catch (Exception e) {
            Libc.close(fd);
            throw e;
        }
    }

    private void serve() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(65536);
            MemorySegment pfd = a.allocate(8);
            while (!stop) {
                pfd.set(JAVA_INT, 0, fd);
                pfd.set(JAVA_SHORT, 4, (short) 1); // POLLIN
                pfd.set(JAVA_SHORT, 6, (short) 0);
                int ready = (int) POLL.invokeExact(pfd, 1L, 100);
                if (ready <= 0) continue;
                long n = (long) READ.invokeExact(fd, buf, 65536L);
                if (n <= 0) continue;
                framesSeen.incrementAndGet();
                byte[] frame = buf.asSlice(0, n).toArray(JAVA_BYTE);
                byte[] reply = answer(frame);
                if (reply != null) {
                    MemorySegment out = a.allocateFrom(JAVA_BYTE, reply);
                    long w = (long) WRITE.invokeExact(fd, out, (long) reply.length);
                }
            }
        } catch (Throwable t) {
            t.printStackTrace();
        }
    }

    private byte[] answer(byte[] f) {
        if (f.length < 14) return null;
        int type = ((f[12] & 0xFF) << 8) | (f[13] & 0xFF);
        if (type == 0x0806 && f.length >= 42 && f[21] == 1 && equals(f, 38, ip)) {
            byte[] r = f.clone();
            System.arraycopy(f, 6, r, 0, 6);          // eth dst = requester
            System.arraycopy(mac, 0, r, 6, 6);        // eth src = guest
            r[21] = 2;                                // ARP reply
            System.arraycopy(f, 22, r, 32, 10);       // target = requester's sha+spa
            System.arraycopy(mac, 0, r, 22, 6);       // sender = guest
            System.arraycopy(ip, 0, r, 28, 4);
            return r;
        }
        if (type == 0x0800 && f.length >= 34 && f[23] == 1 && equals(f, 30, ip)) {
            int ihl = (f[14] & 0x0F) * 4;
            int icmp = 14 + ihl;
            if (f.length < icmp + 8 || f[icmp] != 8) return null;
            byte[] r = f.clone();
            System.arraycopy(f, 6, r, 0, 6);
            System.arraycopy(mac, 0, r, 6, 6);
            System.arraycopy(f, 30, r, 26, 4);        // ip src = old dst
            System.arraycopy(f, 26, r, 30, 4);        // ip dst = old src
            r[icmp] = 0;                              // echo reply
            r[icmp + 2] = 0;
            r[icmp + 3] = 0;
            int totalLength = ((f[16] & 0xFF) << 8) | (f[17] & 0xFF);
            int sum = checksum(r, icmp, 14 + totalLength - icmp);
            r[icmp + 2] = (byte) (sum >> 8);
            r[icmp + 3] = (byte) sum;
            echoReplies.incrementAndGet();
            return r;
        }
        return null;
    }

    private static int checksum(byte[] b, int off, int len) {
        long sum = 0;
        for (int i = 0; i < len - 1; i += 2) sum += ((b[off + i] & 0xFF) << 8) | (b[off + i + 1] & 0xFF);
        if ((len & 1) == 1) sum += (b[off + len - 1] & 0xFF) << 8;
        while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (int) (~sum & 0xFFFF);
    }

    private static boolean equals(byte[] f, int off, byte[] value) {
        for (int i = 0; i < value.length; i++) if (f[off + i] != value[i]) return false;
        return true;
    }

    private static byte[] toBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        loop.join();
        Libc.close(fd);
    }
}
