package kernelloader.ksymtab;

/**
 * How a symbol is exported, named as modpost writes it in Module.symvers. The order is the order
 * of the kernel's __ksymtab* sections in memory (include/asm-generic/vmlinux.lds.h before 5.12,
 * when the unused and GPL-future kinds were removed).
 */
public enum ExportKind {
    EXPORT_SYMBOL("__ksymtab"),
    EXPORT_SYMBOL_GPL("__ksymtab_gpl"),
    EXPORT_UNUSED_SYMBOL("__ksymtab_unused"),
    EXPORT_UNUSED_SYMBOL_GPL("__ksymtab_unused_gpl"),
    EXPORT_SYMBOL_GPL_FUTURE("__ksymtab_gpl_future");

    /** The section holding this kind's entries (its bounds are __start_/__stop_ + this name). */
    public final String section;

    ExportKind(String section) {
        this.section = section;
    }

    /** True for the kinds only GPL-compatible modules may use. */
    public boolean gplOnly() {
        return this == EXPORT_SYMBOL_GPL || this == EXPORT_UNUSED_SYMBOL_GPL;
    }
}
