/* /init of the test Linux guest (PID 1 in an initramfs).
 * Mounts proc/sys/dev, loads the virtio modules shipped in /lib/modules, configures eth0 from
 * the ip=<IP>::<GW>:<MASK>:<host>:<dev>:off parameter in /proc/cmdline (the kernel has no IP
 * autoconfiguration), runs argv[1..] (the words after "--" on the kernel command line) or an
 * interactive /bin/sh, and turns the child's exit status into the VM's:
 *   0 -> reboot (QEMU -no-reboot exits 0); N>0 -> write N to isa-debug-exit 0x501 (QEMU exits 2N+1). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0x501
#define TAG "URUNC-GUEST: "

static const char *const MODULES[] = {
    "virtio_ring", "virtio", "virtio_mmio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
    "virtio_pci", "failover", "net_failover", "virtio_net", "virtio_blk",
    "pvpanic", "pvpanic-mmio", /* a kernel panic is then reported to QEMU's pvpanic device */
};

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(TAG, stdout);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(ap);
}

static void mount_or_warn(const char *src, const char *dst, const char *type) {
    mkdir(dst, 0755);
    if (mount(src, dst, type, 0, NULL) != 0 && errno != EBUSY)
        log_line("mount %s on %s failed: %s", type, dst, strerror(errno));
}

/* Without /dev/console in the initramfs the kernel starts us with no stdio. */
static void ensure_console(void) {
    if (fcntl(1, F_GETFD) != -1) return;
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0) return;
    for (int i = 0; i < 3; i++) dup2(fd, i);
    if (fd > 2) close(fd);
}

static void load_modules(void) {
    for (size_t i = 0; i < sizeof MODULES / sizeof *MODULES; i++) {
        char path[128];
        snprintf(path, sizeof path, "/lib/modules/%s.ko", MODULES[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
            log_line("loading %s failed: %s", MODULES[i], strerror(errno));
        close(fd);
    }
}

static int run_wait(char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int mask_to_prefix(const char *mask) {
    unsigned a, b, c, d;
    if (strchr(mask, '.') == NULL) return atoi(mask);
    if (sscanf(mask, "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return 24;
    unsigned long m = ((unsigned long)a << 24) | (b << 16) | (c << 8) | d;
    int n = 0;
    while (m & 0x80000000ul) { n++; m = (m << 1) & 0xfffffffful; }
    return n;
}

/* Copies field `index` of the ':'-separated ip= value into out. */
static void ip_field(const char *value, int index, char *out, size_t len) {
    const char *p = value;
    for (int i = 0; i < index && p; i++) { p = strchr(p, ':'); if (p) p++; }
    out[0] = 0;
    if (!p) return;
    size_t n = strcspn(p, ": \n");
    if (n >= len) n = len - 1;
    memcpy(out, p, n);
    out[n] = 0;
}

static void wait_for_link(const char *dev) {
    char path[96];
    snprintf(path, sizeof path, "/sys/class/net/%s", dev);
    for (int i = 0; i < 200 && access(path, F_OK) != 0; i++) usleep(10000);
}

static void configure_network(void) {
    char cmdline[4096] = {0};
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd < 0) return;
    ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
    close(fd);
    if (n <= 0) return;
    char *end_of_kernel_params = strstr(cmdline, " -- ");
    if (end_of_kernel_params) *end_of_kernel_params = 0;
    const char *ip = NULL;
    for (char *p = cmdline; (p = strstr(p, "ip=")) != NULL; p += 3)
        if (p == cmdline || p[-1] == ' ') { ip = p + 3; break; }

    char *lo_up[] = {"/bin/busybox", "ip", "link", "set", "lo", "up", NULL};
    run_wait(lo_up);
    if (!ip) return;

    char addr[64], gw[64], mask[64], dev[32], cidr[96];
    ip_field(ip, 0, addr, sizeof addr);
    ip_field(ip, 2, gw, sizeof gw);
    ip_field(ip, 3, mask, sizeof mask);
    ip_field(ip, 5, dev, sizeof dev);
    if (!addr[0]) return;
    if (!dev[0]) strcpy(dev, "eth0");
    snprintf(cidr, sizeof cidr, "%s/%d", addr, mask[0] ? mask_to_prefix(mask) : 24);

    wait_for_link(dev);
    char *addr_add[] = {"/bin/busybox", "ip", "addr", "add", cidr, "dev", dev, NULL};
    char *link_up[] = {"/bin/busybox", "ip", "link", "set", dev, "up", NULL};
    char *route_add[] = {"/bin/busybox", "ip", "route", "add", "default", "via", gw, "dev", dev, NULL};
    if (run_wait(addr_add) != 0 || run_wait(link_up) != 0) {
        log_line("configuring %s with %s failed", dev, cidr);
        return;
    }
    if (gw[0] && run_wait(route_add) != 0) log_line("default route via %s failed", gw);
    log_line("network %s %s gw %s", dev, cidr, gw[0] ? gw : "-");
}

static int run_child(char **argv) {
    pid_t pid = fork();
    if (pid < 0) { log_line("fork failed: %s", strerror(errno)); return 126; }
    if (pid == 0) {
        setsid();
        ioctl(0, TIOCSCTTY, 1);
        execvp(argv[0], argv);
        fprintf(stderr, TAG "exec %s failed: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    for (;;) { /* as PID 1 we also reap orphans; stop at our child */
        int status;
        pid_t got = wait(&status);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return 126;
        if (got != pid) continue;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
}

/* The kernel's default reboot path (ACPI, keyboard controller, then a BIOS jump) hangs on
 * QEMU microvm, which has neither a keyboard controller nor a BIOS that handles the reset.
 * A triple fault resets every x86 VMM; keep an explicit reboot= from the command line. */
static void prefer_triple_fault_reboot(void) {
    char cmdline[4096] = {0};
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, cmdline, sizeof cmdline - 1) < 0) cmdline[0] = 0;
        close(fd);
    }
    if (strncmp(cmdline, "reboot=", 7) == 0 || strstr(cmdline, " reboot=")) return;
    fd = open("/sys/kernel/reboot/type", O_WRONLY);
    if (fd < 0) return;
    if (write(fd, "triple", 6) < 0) log_line("setting reboot type failed: %s", strerror(errno));
    close(fd);
}

static void __attribute__((noreturn)) leave(int code) {
    log_line("exit code %d", code);
    sync();
    if (code != 0 && ioperm(DEBUG_EXIT_PORT, 2, 1) == 0) {
        outb((unsigned char)code, DEBUG_EXIT_PORT);
        log_line("no isa-debug-exit device at 0x%x", DEBUG_EXIT_PORT);
    }
    prefer_triple_fault_reboot();
    reboot(RB_AUTOBOOT);
    for (;;) pause();
}

int main(int argc, char **argv) {
    mount_or_warn("devtmpfs", "/dev", "devtmpfs");
    ensure_console();
    mount_or_warn("proc", "/proc", "proc");
    mount_or_warn("sysfs", "/sys", "sysfs");
    setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 0);
    log_line("init");
    load_modules();
    configure_network();

    char *shell[] = {"/bin/sh", NULL};
    char **child = argc > 1 ? argv + 1 : shell;
    leave(run_child(child));
}
