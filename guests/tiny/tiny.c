/* tiny: a minimal unikernel for testing a unikernel runtime.
 * Boots through PVH (entry.S) or multiboot (entry-mb.S; it then lists the modules it was given), both in
 * 32-bit protected mode, prints to COM1 and acts on its command line:
 *   exit=N   exit with code N (N>0: isa-debug-exit port 0x501; 0: triple fault -> reset)
 *   run      print "TINY: running" and idle forever
 *   ticks=N  print "TINY: tick i" N times, ~100 ms apart, then exit 0 (or the exit= code)
 * Unknown tokens (e.g. Linux parameters like console=ttyS0) are ignored. */
#include <stdint.h>

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0x501
#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void serial_init(void) {
    outb(COM1 + 1, 0x00); /* no interrupts */
    outb(COM1 + 3, 0x80); /* DLAB */
    outb(COM1 + 0, 0x01); /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0xC7); /* FIFO */
}

static void putc_serial(char c) {
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++) { }
    outb(COM1, (uint8_t)c);
}

static void puts_serial(const char *s) {
    for (; *s; s++) {
        if (*s == '\n') putc_serial('\r');
        putc_serial(*s);
    }
}

static void put_uint(uint32_t v) {
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    puts_serial(&buf[i]);
}

static __attribute__((noreturn)) void halt_forever(void) {
    for (;;) __asm__ volatile("cli; hlt");
}

static __attribute__((noreturn)) void triple_fault(void) {
    static const struct __attribute__((packed)) { uint16_t limit; uint32_t base; } empty_idt = {0, 0};
    __asm__ volatile("lidt %0; int3" : : "m"(empty_idt));
    halt_forever();
}

static __attribute__((noreturn)) void tiny_exit(uint32_t code) {
    if (code == 0) triple_fault();
    outb(DEBUG_EXIT_PORT, (uint8_t)code);
    /* Still here: no isa-debug-exit device. Reset is the only other way out (status 0). */
    puts_serial("TINY: no isa-debug-exit device at 0x501, resetting\n");
    triple_fault();
}

/* PIT channel 0 in mode 2 at ~100 Hz; a wrap of the down-counter marks 10 ms. */
#define PIT_HZ 1193182u
#define PIT_DIVISOR (PIT_HZ / 100u)

static uint16_t pit_read(void) {
    outb(0x43, 0x00); /* latch channel 0 */
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    return (uint16_t)(lo | (hi << 8));
}

static int pit_usable;

static void pit_init(void) {
    outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 */
    outb(0x40, PIT_DIVISOR & 0xff);
    outb(0x40, PIT_DIVISOR >> 8);
    uint16_t first = pit_read();
    for (int i = 0; i < 200000; i++) {
        uint16_t v = pit_read();
        if (v != first && v <= PIT_DIVISOR) { pit_usable = 1; return; }
    }
}

static void sleep_10ms(void) {
    if (!pit_usable) { /* no PIT (e.g. microvm pit=off): rough busy loop */
        for (volatile uint32_t i = 0; i < 2000000; i++) { }
        return;
    }
    uint16_t prev = pit_read();
    for (;;) {
        uint16_t now = pit_read();
        if (now > prev) return; /* reloaded: one period passed */
        prev = now;
    }
}

static void sleep_100ms(void) {
    for (int i = 0; i < 10; i++) sleep_10ms();
}

static int starts_with(const char *s, const char *prefix, const char **rest) {
    while (*prefix) if (*s++ != *prefix++) return 0;
    *rest = s;
    return 1;
}

static int parse_uint(const char *s, const char *end, uint32_t *out) {
    uint32_t v = 0;
    if (s == end) return 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (uint32_t)(*s - '0');
    }
    *out = v;
    return 1;
}

static __attribute__((noreturn)) void run_cmdline(const char *cmdline);

void tiny_main(const struct hvm_start_info *si) {
    serial_init();
    puts_serial("TINY: booted\n");
    const char *cmdline = "";
    if (si && si->magic == HVM_START_MAGIC && si->cmdline_paddr && si->cmdline_paddr < 0xffffffffu)
        cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
    run_cmdline(cmdline);
}

#define MULTIBOOT_LOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_INFO_CMDLINE (1u << 2)
#define MULTIBOOT_INFO_MODS (1u << 3)

struct multiboot_info { uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr; };
struct multiboot_module { uint32_t mod_start, mod_end, string, reserved; };

/* Up to 48 bytes of a module, non-printable bytes as '.', so a test can tell which file it got. */
static void put_module_data(const uint8_t *p, uint32_t len) {
    char c[2] = {0, 0};
    for (uint32_t i = 0; i < len && i < 48; i++) {
        c[0] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '.';
        puts_serial(c);
    }
}

void tiny_multiboot(uint32_t magic, const struct multiboot_info *mbi) {
    serial_init();
    puts_serial("TINY: booted (multiboot)\n");
    const char *cmdline = "";
    if (magic == MULTIBOOT_LOADER_MAGIC && mbi) {
        if ((mbi->flags & MULTIBOOT_INFO_CMDLINE) && mbi->cmdline) cmdline = (const char *)(uintptr_t)mbi->cmdline;
        uint32_t count = (mbi->flags & MULTIBOOT_INFO_MODS) ? mbi->mods_count : 0;
        puts_serial("TINY: modules=");
        put_uint(count);
        puts_serial("\n");
        const struct multiboot_module *m = (const struct multiboot_module *)(uintptr_t)mbi->mods_addr;
        for (uint32_t i = 0; i < count; i++) {
            puts_serial("TINY: module ");
            put_uint(i);
            puts_serial(" bytes=");
            put_uint(m[i].mod_end - m[i].mod_start);
            puts_serial(" data=");
            put_module_data((const uint8_t *)(uintptr_t)m[i].mod_start, m[i].mod_end - m[i].mod_start);
            puts_serial("\n");
        }
    }
    run_cmdline(cmdline);
}

static void run_cmdline(const char *cmdline) {
    puts_serial("TINY: cmdline=");
    puts_serial(cmdline);
    puts_serial("\n");

    uint32_t exit_code = 0, ticks = 0;
    int run = 0;
    for (const char *p = cmdline; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') p++;
        const char *val;
        uint32_t n;
        /* a Linux-style launcher may hand us our arguments as rdinit=<first> or init=<first> */
        if (starts_with(tok, "rdinit=", &val) && val <= p) tok = val;
        else if (starts_with(tok, "init=", &val) && val <= p) tok = val;
        if (p - tok == 3 && tok[0] == 'r' && tok[1] == 'u' && tok[2] == 'n') run = 1;
        else if (starts_with(tok, "exit=", &val) && val <= p && parse_uint(val, p, &n)) exit_code = n;
        else if (starts_with(tok, "ticks=", &val) && val <= p && parse_uint(val, p, &n)) ticks = n;
    }

    if (ticks) {
        pit_init();
        for (uint32_t i = 1; i <= ticks; i++) {
            sleep_100ms();
            puts_serial("TINY: tick ");
            put_uint(i);
            puts_serial("\n");
        }
    }
    if (run) {
        puts_serial("TINY: running\n");
        halt_forever();
    }
    puts_serial("TINY: exit=");
    put_uint(exit_code);
    puts_serial("\n");
    tiny_exit(exit_code);
}
