/*
 * KVM usability probe: a 64 KiB "-bios" image for qemu-system-x86_64 -M pc.
 * It does what a kernel entry does (real mode -> protected mode -> PAE paging
 * -> long mode) and then writes 0x2a to isa-debug-exit (iobase 0x501), so a
 * working accelerator makes QEMU exit with status (0x2a << 1) | 1 = 85.
 * Nested KVM setups that cannot emulate such mode switches fail or hang here.
 *
 * Build (GNU binutils on x86_64 Debian 12):
 *   as --64 -o kvm-probe.o kvm-probe.S
 *   ld -m elf_x86_64 -Ttext=0xF0000 -e 0xFFFF0 -o kvm-probe.elf kvm-probe.o
 *   objcopy -O binary -j .text kvm-probe.elf kvm-probe.bin   # exactly 65536 bytes
 */
        .text
_base:                                  /* linked at 0xF0000: the BIOS segment */
        .code16
start16:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x7000, %sp
        /* identity-map the first 2 MiB with one large page; tables at 0x1000-0x3fff (RAM) */
        movw    $0x1000, %di
        movw    $(0x3000 / 4), %cx
        xorl    %eax, %eax
        cld
        rep stosl
        movl    $0x2003, 0x1000         /* PML4[0] -> PDPT */
        movl    $0x3003, 0x2000         /* PDPT[0] -> PD */
        movl    $0x0083, 0x3000         /* PD[0]: 2 MiB page, present, writable */
        movw    $0xF000, %ax
        movw    %ax, %ds
        lgdtl   (gdt_desc - _base)
        movl    %cr0, %eax
        orl     $1, %eax
        movl    %eax, %cr0
        ljmpl   $0x08, $pm32

        .code32
pm32:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movl    %cr4, %eax
        orl     $(1 << 5), %eax         /* PAE */
        movl    %eax, %cr4
        movl    $0x1000, %eax
        movl    %eax, %cr3
        movl    $0xC0000080, %ecx       /* EFER */
        rdmsr
        orl     $(1 << 8), %eax         /* LME */
        wrmsr
        movl    %cr0, %eax
        orl     $0x80000000, %eax       /* PG */
        movl    %eax, %cr0
        ljmpl   $0x18, $lm64

        .code64
lm64:
        movw    $0x501, %dx
        movb    $0x2a, %al
        outb    %al, %dx
1:      hlt
        jmp     1b

        .balign 8
gdt:
        .quad   0
        .quad   0x00CF9A000000FFFF      /* 0x08: 32-bit code, flat */
        .quad   0x00CF92000000FFFF      /* 0x10: data, flat */
        .quad   0x00AF9A000000FFFF      /* 0x18: 64-bit code */
gdt_desc:
        .word   gdt_desc - gdt - 1
        .long   gdt

        .org    0xFFF0                  /* reset vector: CS base 0xFFFF0000, IP 0xFFF0 */
        .code16
        ljmp    $0xF000, $(start16 - _base)
        .org    0x10000, 0
