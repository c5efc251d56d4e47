package kernelloader.layout;

import kernelloader.image.ByteView;
import kernelloader.image.KernelImage;

/**
 * Applies a relocatable kernel's R_*_RELATIVE relocations the way the kernel does at boot
 * without KASLR (arch/arm64/kernel/pi/relocate.c: *place = addend): arm64 links with
 * --no-apply-dynamic-relocs, so every pointer in its data is 0 in the Image until this runs.
 *
 * The table (.rela.dyn, between __rela_start and __rela_end) is inside the image but those
 * symbols are rarely in kallsyms: it is found as the longest run of 24-byte Elf64_Rela entries
 * of the architecture's RELATIVE type whose r_offset lies in the image.
 */
public final class RelativeRelocations {
    private static final int MIN_RUN = 64;

    /** What was applied: how many relocations, and where the table was. */
    public record Applied(int count, int tableOffset, int tableEnd) {}

    private RelativeRelocations() {}

    /** The RELATIVE relocation type of 64-bit architectures whose kernels carry RELA, or -1. */
    static long relativeType(Architecture arch) {
        return switch (arch) {
            case AARCH64 -> 1027;     // R_AARCH64_RELATIVE
            case RISCV, LOONGARCH -> 3; // R_RISCV_RELATIVE, R_LARCH_RELATIVE
            case S390X -> 12;         // R_390_RELATIVE
            case POWERPC -> 22;       // R_PPC64_RELATIVE
            default -> -1;
        };
    }

    /**
     * Finds and applies the table in place (the image's bytes change); null when the kernel has
     * none (not relocatable, 32-bit, or an ELF whose loader does it).
     */
    public static Applied apply(KernelImage img, KernelLayout layout) {
        if (layout.bits() != 64 || layout.arch() == null || img.elf() != null) return null;
        long type = relativeType(layout.arch().value());
        if (type < 0) return null;
        ByteView v = new ByteView(img.data(), img.length(), layout.order());
        long base = layout.base().value();
        long size = img.length();
        int bestStart = -1, bestCount = 0;
        for (int phase = 0; phase < 24; phase += 8) {
            int runStart = -1, run = 0;
            for (int p = phase; p + 24 <= img.length(); p += 24) {
                boolean entry = v.u64(p + 8) == type && Long.compareUnsigned(v.u64(p) - base, size) < 0;
                if (entry) {
                    if (run == 0) runStart = p;
                    run++;
                    if (run > bestCount) {
                        bestCount = run;
                        bestStart = runStart;
                    }
                } else {
                    run = 0;
                }
            }
        }
        if (bestCount < MIN_RUN) return null;
        byte[] d = img.data();
        for (int i = 0; i < bestCount; i++) {
            int e = bestStart + 24 * i;
            long place = v.u64(e) - base;
            long addend = v.u64(e + 16);
            if (place + 8 > size) continue;
            int at = (int) place;
            for (int b = 0; b < 8; b++) {
                int shift = layout.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? 8 * b : 8 * (7 - b);
                d[at + b] = (byte) (addend >>> shift);
            }
        }
        return new Applied(bestCount, bestStart, bestStart + 24 * bestCount);
    }
}
