/* void switch_context(u64 *save_rsp, u64 new_rsp)
 * Saves the callee-saved registers on the current stack, stores the stack
 * pointer into *save_rsp, then resumes the thread whose stack is new_rsp. */
    .text
    .globl switch_context
    .type switch_context, @function
switch_context:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size switch_context, . - switch_context

    .section .note.GNU-stack, "", @progbits
