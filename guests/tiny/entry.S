/* PVH entry: QEMU's -kernel loader (pc and microvm) finds the XEN_ELFNOTE_PHYS32_ENTRY
 * note and jumps here in 32-bit protected mode, paging off, %ebx = &hvm_start_info. */
    .section .note.pvh, "a", @note
    .p2align 2
    .long 4                 /* namesz: "Xen\0" */
    .long 4                 /* descsz */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long _start

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    movl $stack_top, %esp
    pushl %ebx
    call tiny_main
1:  cli
    hlt
    jmp 1b

    .bss
    .p2align 4
    .space 16384
stack_top:
