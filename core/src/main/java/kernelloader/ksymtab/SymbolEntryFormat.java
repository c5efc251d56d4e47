package kernelloader.ksymtab;

/**
 * The layout of one struct kernel_symbol (include/linux/export.h, kernel/module/internal.h):
 * value, name and, from 5.4, namespace; each field either an absolute pointer (before 4.19, and
 * on architectures without HAVE_ARCH_PREL32_RELOCATIONS) or a 32-bit offset from the field's own
 * address ("PREL32": arm64, x86, powerpc, riscv, s390 and others from 4.19).
 *
 * @param fieldSize 4 for PREL32 offsets, else the pointer size
 * @param fields    2 (value, name) or 3 (value, name, namespace)
 */
public record SymbolEntryFormat(boolean relative, int fieldSize, int fields) {

    public int entrySize() { return fieldSize * fields; }

    public boolean hasNamespace() { return fields == 3; }

    /** "PREL32 offsets (value, name, namespace)", "absolute 32-bit pointers (value, name)". */
    public String describe() {
        String kind = relative ? "PREL32 offsets" : "absolute " + (fieldSize * 8) + "-bit pointers";
        return kind + (fields == 3 ? " (value, name, namespace)" : " (value, name)");
    }
}
