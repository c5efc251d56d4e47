package kernelloader.ksymtab;

import java.util.ArrayList;
import java.util.List;

import kernelloader.image.KernelVersion;
import kernelloader.layout.Architecture;
import kernelloader.layout.KernelLayout;

/**
 * What follows __ksymtab in memory (include/asm-generic/vmlinux.lds.h): __kcrctab (one CRC per
 * entry, same order; absent without CONFIG_MODVERSIONS), __kflagstab (2026 on: one flag byte per
 * entry), then __ksymtab_strings. The bytes between the last entry and the first name say which
 * are there and how CRCs are stored.
 *
 * @param crcAddress   __start___kcrctab, or -1 without CRCs
 * @param flagsAddress __start___kflagstab, or -1 (kernel addresses are negative as longs, never -1)
 */
record TrailingTables(CrcStorage crcs, long crcAddress, long flagsAddress) {
    /** Slack between the tables and the first string (alignment, an unmerged empty string). */
    static final int MAX_SLACK = 16;

    boolean hasFlags() { return flagsAddress != -1; }

    /** One way the bytes after __ksymtab may be laid out. */
    private record Hypothesis(CrcStorage crcs, int crcSize, boolean flags) {}

    /**
     * The tables between the end of the last __ksymtab entry and the first name, or null when
     * no layout fits the bytes there exactly (the tables are cut off, or the kernel is unknown).
     */
    static TrailingTables find(VirtualMemory mem, KernelLayout layout, KernelVersion version, long tableEnd,
                               long firstString, int n) {
        boolean relCrcs = layout.arch() != null && layout.arch().value() == Architecture.POWERPC && layout.bits() == 64
                && version != null && version.atLeast(4, 10) && !version.atLeast(5, 19);
        CrcStorage u32 = relCrcs ? CrcStorage.RELATIVE : CrcStorage.U32;
        int word = layout.bits() / 8;
        // newest first; unsigned long CRCs differ from u32 only on 64-bit kernels
        List<Hypothesis> hypotheses = new ArrayList<>(List.of(new Hypothesis(u32, 4, true), new Hypothesis(u32, 4, false)));
        if (word == 8) hypotheses.add(new Hypothesis(CrcStorage.ULONG, 8, false));
        hypotheses.add(new Hypothesis(CrcStorage.NONE, 0, true));
        hypotheses.add(new Hypothesis(CrcStorage.NONE, 0, false));
        for (Hypothesis h : hypotheses) {
            int size = h.crcSize();
            long crcAt = size == 0 ? -1 : align(tableEnd, size);
            long flagsAt = size == 0 ? tableEnd : crcAt + (long) n * size;
            long stringsAt = flagsAt + (h.flags() ? n : 0);
            long slack = firstString - stringsAt;
            if (slack < 0 || slack >= MAX_SLACK) continue;
            if (size > 0 && !mem.mapped(crcAt, n * size)) continue;
            if (h.flags() && !flagBytes(mem, flagsAt, n)) continue;
            return new TrailingTables(h.crcs(), crcAt, h.flags() ? flagsAt : -1);
        }
        return null;
    }

    private static long align(long va, int a) {
        return (va + a - 1) & -(long) a;
    }

    /** True if {@code n} bytes at {@code va} look like __kflagstab: only the defined flag bits, GPL set on some. */
    private static boolean flagBytes(VirtualMemory mem, long va, int n) {
        if (!mem.mapped(va, n)) return false;
        int off = mem.offsetOf(va);
        int gpl = 0;
        for (int i = 0; i < n; i++) {
            int b = mem.bytes().u8(off + i);
            if ((b & ~FLAG_KNOWN) != 0) return false;
            if ((b & FLAG_GPL_ONLY) != 0) gpl++;
        }
        return gpl > 0;
    }

    /** include/linux/module_symbol.h: KSYM_FLAG_GPL_ONLY = 1 << 0, KSYM_FLAG_PROTECTED = 1 << 1. */
    static final int FLAG_GPL_ONLY = 1;
    static final int FLAG_KNOWN = 3;

    /** The CRC of entry {@code i}, 0 without CRCs. */
    long crc(VirtualMemory mem, KernelLayout layout, int i) {
        return switch (crcs) {
            case NONE -> 0;
            case U32 -> mem.bytes().u32(mem.offsetOf(crcAddress + 4L * i));
            case ULONG -> mem.bytes().word(mem.offsetOf(crcAddress + (long) i * layout.bits() / 8), layout.bits() / 8) & 0xffffffffL;
            case RELATIVE -> {
                long at = crcAddress + 4L * i;
                int off = mem.offsetOf(at + mem.bytes().s32(mem.offsetOf(at)));
                yield off < 0 ? 0 : mem.bytes().u32(off);
            }
        };
    }
}
