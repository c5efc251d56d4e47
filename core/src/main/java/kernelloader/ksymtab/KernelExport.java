package kernelloader.ksymtab;

/**
 * One exported symbol as the kernel's own tables give it.
 *
 * @param value     the symbol's address from its struct kernel_symbol (per-cpu exports hold an offset)
 * @param namespace the symbol namespace (5.4+), "" when none
 * @param crc       the modversions CRC, 0 when the kernel carries none
 */
public record KernelExport(String name, long value, ExportKind kind, String namespace, long crc) {
}
