/* /init of the test Linux guest (PID 1 in an initramfs).
 * Mounts proc/sys/dev, loads the modules shipped in /lib/modules (in the order /lib/modules/load-order
 * lists, written by guests/build.sh), mounts what the shim passes as urunc.mount= words (see mount_volumes),
 * configures eth0 from
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

#define MAX_MOUNTS 16

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

/* One module name per line in /lib/modules/load-order, dependencies first. */
static void load_modules(void) {
    FILE *order = fopen("/lib/modules/load-order", "re");
    if (!order) return;
    char name[96];
    while (fgets(name, sizeof name, order)) {
        name[strcspn(name, "\n")] = 0;
        if (!name[0]) continue;
        char path[160];
        snprintf(path, sizeof path, "/lib/modules/%s.ko", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { log_line("module %s missing", name); continue; }
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
            log_line("loading %s failed: %s", name, strerror(errno));
        close(fd);
    }
    fclose(order);
}

/* The kernel command line before " -- ", split as the kernel splits it: at spaces outside double quotes,
 * the quotes removed. Returns the number of words put in words[]. */
static int kernel_words(char *buf, size_t len, char **words, int max) {
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    int count = 0;
    char *in = buf, *out = buf;
    while (*in && count < max) {
        while (*in == ' ' || *in == '\n') in++;
        if (!*in) break;
        char *word = out;
        int quoted = 0;
        while (*in && (quoted || (*in != ' ' && *in != '\n'))) {
            if (*in == '"') { quoted = !quoted; in++; continue; }
            *out++ = *in++;
        }
        if (*in) in++;
        *out++ = 0;
        if (strcmp(word, "--") == 0) break;
        words[count++] = word;
    }
    return count;
}

static void mkdirs(const char *path) {
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        mkdir(p, 0755);
        *s = '/';
    }
    mkdir(p, 0755);
}

/* /dev/vdX of the virtio disk whose serial is `serial` (QEMU serial=, the shim uses the device id). */
static int disk_by_serial(const char *serial, char *dev, size_t len) {
    for (int tries = 0; tries < 200; tries++) {
        for (char c = 'a'; c <= 'z'; c++) {
            char path[64], got[64] = {0};
            snprintf(path, sizeof path, "/sys/block/vd%c/serial", c);
            int fd = open(path, O_RDONLY);
            if (fd < 0) continue;
            ssize_t n = read(fd, got, sizeof got - 1);
            close(fd);
            if (n > 0 && got[n - 1] == '\n') got[n - 1] = 0;
            if (n > 0 && strcmp(got, serial) == 0) { snprintf(dev, len, "/dev/vd%c", c); return 0; }
        }
        usleep(10000);
    }
    return -1;
}

static char mounted[MAX_MOUNTS][256];
static int mounted_count;
#define SYSROOT "/sysroot"
static int root_shared; /* the container rootfs is mounted on SYSROOT: switch_into_rootfs() makes it / */

/* urunc.mount=<kind>:<source>:<ro|rw>:<target>: kind virtiofs (source = tag) or blk (source = disk serial,
 * an ext4 file system). The target is the rest of the word, so it may hold ':'. Target "/" (the shim sends it
 * first) is the container's rootfs: mounted on SYSROOT, the other targets below it, and switched into before the
 * program runs. */
static void mount_volumes(void) {
    static char buf[4096];
    char *words[256];
    int n = kernel_words(buf, sizeof buf, words, 256);
    for (int i = 0; i < n; i++) {
        if (strncmp(words[i], "urunc.mount=", 12) != 0) continue;
        char *kind = words[i] + 12, *source = strchr(kind, ':');
        char *mode = source ? strchr(source + 1, ':') : NULL;
        char *target = mode ? strchr(mode + 1, ':') : NULL;
        if (!target || target[1] != '/') { log_line("bad mount %s", words[i]); continue; }
        *source++ = 0; *mode++ = 0; *target++ = 0;
        unsigned long flags = strcmp(mode, "ro") == 0 ? MS_RDONLY : 0;
        char dev[64];
        const char *what = source, *type = kind;
        if (strcmp(kind, "blk") == 0) {
            if (disk_by_serial(source, dev, sizeof dev) != 0) { log_line("no disk with serial %s", source); continue; }
            what = dev;
            type = "ext4";
        } else if (strcmp(kind, "virtiofs") != 0) {
            log_line("unknown mount kind %s", kind);
            continue;
        }
        char at[512];
        int is_root = strcmp(target, "/") == 0;
        snprintf(at, sizeof at, "%s%s", is_root ? SYSROOT : root_shared ? SYSROOT : "", is_root ? "" : target);
        mkdirs(at);
        if (mount(what, at, type, flags, NULL) != 0) {
            log_line("mount %s %s on %s failed: %s", kind, source, target, strerror(errno));
            continue;
        }
        log_line("mounted %s %s on %s %s", kind, source, target, mode);
        if (is_root) root_shared = 1;
        else if (mounted_count < MAX_MOUNTS) snprintf(mounted[mounted_count++], sizeof mounted[0], "%s", target);
    }
}

/* The shared container rootfs becomes / (switch_root): the kernel file systems move along. */
static void switch_into_rootfs(void) {
    if (!root_shared) return;
    const char *moved[] = {"/dev", "/proc", "/sys"};
    for (size_t i = 0; i < sizeof moved / sizeof *moved; i++) {
        char at[64];
        snprintf(at, sizeof at, SYSROOT "%s", moved[i]);
        mkdir(at, 0755);
        if (mount(moved[i], at, NULL, MS_MOVE, NULL) != 0) log_line("moving %s failed: %s", moved[i], strerror(errno));
    }
    if (chdir(SYSROOT) != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 || chroot(".") != 0 || chdir("/") != 0) {
        log_line("switching into the container rootfs failed: %s", strerror(errno));
        return;
    }
    log_line("root is the container rootfs");
}

/* What the guest wrote reaches the host before the VM ends. */
static void unmount_volumes(void) {
    sync();
    for (int i = mounted_count - 1; i >= 0; i--)
        if (umount(mounted[i]) != 0) log_line("unmount %s failed: %s", mounted[i], strerror(errno));
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
    unmount_volumes();
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
    mount_volumes();
    configure_network();
    switch_into_rootfs();

    char *shell[] = {"/bin/sh", NULL};
    char **child = argc > 1 ? argv + 1 : shell;
    leave(run_child(child));
}
