package kernelloader.kallsyms;

/** How a kernel stores its symbols' addresses, in the order the kernel's history added them. */
public enum AddressEncoding {
    /** {@code kallsyms_addresses[]}: one absolute {@code unsigned long} per symbol (2.6.10–6.10). */
    ABSOLUTE("kallsyms_addresses: absolute unsigned long"),
    /** {@code kallsyms_offsets[]} u32 + {@code kallsyms_relative_base} (4.6, 2213e9a66bb8). */
    RELATIVE_BASE("kallsyms_offsets + kallsyms_relative_base"),
    /**
     * As above with KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP until 6.15): non-negative offsets are
     * absolute per-cpu values, negative ones are {@code relative_base - 1 - offset}.
     */
    ABSOLUTE_PERCPU("kallsyms_offsets + kallsyms_relative_base, absolute per-cpu"),
    /** 7.0+ on 64-bit or relocatable kernels: {@code &offsets[i] + (s32)offsets[i]}. */
    SELF_RELATIVE("kallsyms_offsets, self-relative (7.0+)"),
    /**
     * u32 addresses after the token index: 7.0+ kallsyms_offsets on 32-bit non-relocatable
     * kernels, or 6.4-6.10 kallsyms_addresses on 32-bit kernels without base-relative tables.
     * The bytes are the same; only the kernel version tells them apart.
     */
    ABSOLUTE_32("absolute u32 after the token index (6.4-6.10 kallsyms_addresses or 7.0+ kallsyms_offsets)");

    private final String description;

    AddressEncoding(String description) {
        this.description = description;
    }

    public String description() { return description; }
}
