/* guest-exit N: report exit code N through QEMU's isa-debug-exit (port 0x501). */
__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n call start_c\n hlt\n");
static long sys1(long n, long a) { long r; __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory"); return r; }
void start_c(long *sp) {
    unsigned char v = 0;
    if (sp[0] > 1) for (const char *p = (const char *)sp[2]; *p; p++) v = (unsigned char)(v * 10 + (*p - '0'));
    sys1(172, 3); /* iopl(3) */
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"((unsigned short)0x501));
    sys1(60, 1);
}
