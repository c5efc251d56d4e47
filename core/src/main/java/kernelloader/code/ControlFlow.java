package kernelloader.code;

import java.util.Set;

/**
 * Functions that never return, and functions that always do though a disassembler's guess may
 * say otherwise.
 *
 * <p>The kernel's own list of its __noreturn functions is objtool's (tools/objtool/noreturns.h
 * and tools/objtool/arch/x86/include/arch/noreturns.h, kept by the kernel for the same purpose:
 * to reconstruct control flow from machine code); the names below are those of 6.x, with older
 * names of the same functions (complete_and_exit, do_exit's callers) added. A name absent from
 * a kernel costs nothing.
 *
 * <p>The ones that must return: ftrace's entry hooks (__fentry__, mcount, _mcount), called at the
 * start of nearly every function, and the return and indirect-branch thunks of the Spectre
 * mitigations (__x86_return_thunk, __x86_indirect_thunk_*, ...): each is a few bytes ending in
 * a jump or a ret that a guess can take for a dead end, and marking one no-return cuts every
 * function that calls it short after the call.
 */
public final class ControlFlow {
    private ControlFlow() {}

    private static final Set<String> NO_RETURN = Set.of(
            // tools/objtool/noreturns.h
            "__invalid_creds", "__kunit_abort", "__module_put_and_kthread_exit", "__reiserfs_panic", "__stack_chk_fail",
            "__ubsan_handle_builtin_unreachable", "arch_call_rest_init", "arch_cpu_idle_dead", "cpu_startup_entry", "do_exit",
            "do_group_exit", "do_task_dead", "fortify_panic", "__fortify_panic", "kthread_complete_and_exit", "kthread_exit",
            "kunit_try_catch_throw", "make_task_dead", "mpt_halt_firmware", "nmi_panic_self_stop", "panic", "panic_smp_self_stop",
            "rest_init", "start_kernel", "stop_this_cpu", "usercopy_abort", "__noreturn_panic",
            // tools/objtool/arch/x86/include/arch/noreturns.h
            "cpu_bringup_and_idle", "ex_handler_msr_mce", "hlt_play_dead", "hv_ghcb_terminate", "machine_real_restart",
            "rewind_stack_and_make_dead", "rewind_stack_do_exit", "sev_es_terminate", "snp_abort", "x86_64_start_kernel",
            "x86_64_start_reservations", "xen_cpu_bringup_again", "xen_start_kernel", "__tdx_hypercall_failed",
            // older kernels' names of the same
            "complete_and_exit", "module_put_and_exit", "__module_put_and_exit", "do_exit_group", "cpu_idle", "cpu_die");

    /** A function that never returns to its caller. */
    public static boolean neverReturns(String name) {
        return NO_RETURN.contains(name);
    }

    /** A function a guess may take for a no-return one, but which returns (ftrace hooks, mitigation thunks). */
    public static boolean alwaysReturns(String name) {
        return name.equals("__fentry__") || name.equals("mcount") || name.equals("_mcount") || name.equals("__gnu_mcount_nc")
                || name.equals("ftrace_caller") || name.equals("ftrace_stub") || name.equals("ftrace_regs_caller")
                || name.startsWith("__x86_return_thunk") || name.startsWith("__x86_indirect_thunk_")
                || name.startsWith("__x86_indirect_call_thunk_") || name.startsWith("__x86_indirect_jump_thunk_")
                || name.equals("retbleed_return_thunk") || name.equals("srso_return_thunk") || name.equals("srso_alias_return_thunk")
                || name.equals("entry_untrain_ret") || name.equals("zen_untrain_ret") || name.equals("retbleed_untrain_ret")
                || name.startsWith("__llvm_retpoline_") || name.startsWith("__x86_retpoline_")
                || name.startsWith("__ppc64_") && name.endsWith("_thunk");
    }

    /**
     * A text symbol that labels padding or a preamble before a function, not a function:
     * CONFIG_FUNCTION_PADDING's __pfx_ (the NOPs or int3s before each function, for call
     * depth tracking and ftrace) and kCFI's __cfi_ (the type hash the indirect call checks).
     */
    public static boolean isPreamble(String name) {
        return name.startsWith("__pfx_") || name.startsWith("__cfi_");
    }
}
