/* Multiboot (v1) entry, the way Unikraft's QEMU images boot: QEMU's -kernel loader finds the header in the
 * first 8 KiB, loads the ELF, and jumps here in 32-bit protected mode, paging off, %eax = 0x2BADB002,
 * %ebx = &multiboot_info. QEMU passes each -initrd module (a comma-separated list) in that info, which
 * is what the runtime's tests look at. */
    .section .multiboot, "a"
    .p2align 2
    .long 0x1BADB002        /* magic */
    .long 0                 /* flags: ELF image, nothing else asked for */
    .long -0x1BADB002       /* checksum */

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    movl $stack_top, %esp
    pushl %ebx
    pushl %eax
    call tiny_multiboot
1:  cli
    hlt
    jmp 1b

    .bss
    .p2align 4
    .space 16384
stack_top:
