package kernelloader.ksymtab;

/** How __kcrctab holds the modversions CRCs, one per __ksymtab entry in the same order. */
public enum CrcStorage {
    /** No __kcrctab: built without CONFIG_MODVERSIONS. */
    NONE("none (built without CONFIG_MODVERSIONS)"),
    /** u32 values (4.10 and later). */
    U32("32-bit values"),
    /** unsigned long values (before 4.10; 8 bytes on 64-bit kernels). */
    ULONG("unsigned long values"),
    /**
     * CONFIG_MODULE_REL_CRCS (ppc64, 4.10 to 5.18): s32 offsets from each entry to a u32 in
     * .rodata that holds the CRC (genksyms -R emitted "__crc_sym = .; LONG(crc)").
     */
    RELATIVE("32-bit offsets to the values in .rodata (MODULE_REL_CRCS)");

    public final String description;

    CrcStorage(String description) {
        this.description = description;
    }
}
