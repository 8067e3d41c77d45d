/* Kernel entry: set up a boot stack and call into C++. */
    .section .text.entry, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    cli
    lea boot_stack_top(%rip), %rsp
    xor %rbp, %rbp
    mov %rdi, %r12          /* boot loader passes the command line in %rdi */
    call premain@PLT
    mov %r12, %rdi
    call kernel_main@PLT
1:  hlt
    jmp 1b
    .size _start, . - _start

    .section .bss
    .balign 16
boot_stack:
    .skip 16384
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
