package kernelloader.reloc;

import kernelloader.image.ByteView;
import kernelloader.image.Facet;
import kernelloader.image.KernelImage;
import kernelloader.layout.Architecture;
import kernelloader.layout.KernelLayout;

/**
 * Finds a relocatable kernel's R_*_RELATIVE relocations, which the kernel applies at boot
 * without KASLR (arch/arm64/kernel/pi/relocate.c: *place = addend): arm64 links with
 * --no-apply-dynamic-relocs, so every pointer in its data is 0 in the Image until they are.
 *
 * The table (.rela.dyn, between __rela_start and __rela_end) is inside the image but those
 * symbols are rarely in kallsyms: it is found as the longest run of 24-byte Elf64_Rela entries
 * of the architecture's RELATIVE type whose r_offset lies in the image.
 */
public final class RelativeRelocations {
    private static final int MIN_RUN = 64;
    private static final int RELA_SIZE = 24;

    private RelativeRelocations() {}

    /** The RELATIVE relocation type of 64-bit architectures whose kernels carry RELA, or -1. */
    static int relativeType(Architecture arch) {
        return switch (arch) {
            case AARCH64 -> 1027;     // R_AARCH64_RELATIVE
            case RISCV, LOONGARCH -> 3; // R_RISCV_RELATIVE, R_LARCH_RELATIVE
            case S390X -> 12;         // R_390_RELATIVE
            case POWERPC -> 22;       // R_PPC64_RELATIVE
            default -> -1;
        };
    }

    static String typeName(Architecture arch) {
        return switch (arch) {
            case AARCH64 -> "R_AARCH64_RELATIVE";
            case RISCV -> "R_RISCV_RELATIVE";
            case LOONGARCH -> "R_LARCH_RELATIVE";
            case S390X -> "R_390_RELATIVE";
            case POWERPC -> "R_PPC64_RELATIVE";
            default -> "RELATIVE";
        };
    }

    /**
     * The kernel's RELATIVE relocations, or why there are none: not a 64-bit RELA architecture,
     * an ELF (its own loader relocates), or no table of at least {@value #MIN_RUN} entries.
     */
    public static Facet<Relocations> find(KernelImage img, KernelLayout layout) {
        if (img.elf() != null) return Facet.absent("an ELF image: its loader applies its relocations");
        if (layout.bits() != 64 || layout.arch() == null) return Facet.absent("a " + layout.bits() + "-bit kernel keeps no RELATIVE table");
        Architecture arch = layout.arch().value();
        int type = relativeType(arch);
        if (type < 0) return Facet.absent(arch.displayName() + " kernels keep no RELATIVE table in the image");
        ByteView v = new ByteView(img.data(), img.length(), layout.order());
        long base = layout.base().value();
        long size = img.length();
        int bestStart = -1, bestCount = 0;
        for (int phase = 0; phase < RELA_SIZE; phase += 8) {
            int runStart = -1, run = 0;
            for (int p = phase; p + RELA_SIZE <= img.length(); p += RELA_SIZE) {
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
        if (bestCount < MIN_RUN) {
            return Facet.absent("no table of " + MIN_RUN + "+ " + typeName(arch) + " entries in the image"
                    + " (not relocatable, or linked with RELR, whose kernels keep their pointers in place)");
        }
        long[] places = new long[bestCount], values = new long[bestCount];
        for (int i = 0; i < bestCount; i++) {
            int e = bestStart + RELA_SIZE * i;
            places[i] = v.u64(e);
            values[i] = v.u64(e + 16);
        }
        return Facet.of(new Relocations(type, typeName(arch), layout.order(), base, bestStart, bestStart + RELA_SIZE * bestCount, places, values));
    }
}
