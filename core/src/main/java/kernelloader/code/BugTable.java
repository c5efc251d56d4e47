package kernelloader.code;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.Architecture;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;

/**
 * The kernel's {@code __bug_table}: one entry per BUG() and WARN() site, which is a trap
 * instruction (arm64 {@code brk #0x800}, x86 {@code ud2}) either way. Only the entry's flags say
 * which: BUGFLAG_WARNING (bit 0) set, the trap handler prints the warning and the code goes on
 * after the trap; clear, the kernel dies there. A disassembler cannot know this from the
 * instruction.
 *
 * <p>Read here for the architectures whose entries hold relative pointers
 * (CONFIG_GENERIC_BUG_RELATIVE_POINTERS): {@code struct bug_entry { int bug_addr_disp; int
 * file_disp; u16 line; u16 flags; }} (12 bytes, CONFIG_DEBUG_BUGVERBOSE, every distribution
 * kernel) or {@code { int bug_addr_disp; u16 flags; }} (8). Found between
 * {@code __start___bug_table} and {@code __stop___bug_table} where kallsyms names them
 * (KALLSYMS_ALL), else by content: the longest run of entries, at one of those strides, whose
 * every address is a trap instruction.
 */
public final class BugTable {
    /** One site: the trap's address, and whether the kernel goes on after it (WARN) or not (BUG). */
    public record Site(long address, boolean warning) {}

    /** A table found: where, its stride, how found, and its sites. */
    public record Found(long address, int stride, String how, List<Site> sites) {}

    static final int BUGFLAG_WARNING = 1;
    /** Fewer entries in a run are no table: a kernel has thousands. */
    static final int MIN_RUN = 32;
    private static final int[] STRIDES = {12, 8};

    private BugTable() {}

    /** The bytes read, as far as the image goes, and how. */
    private record Image(byte[] data, int length, boolean big, KernelLayout layout, Architecture arch) {}

    /** The table, or null where this architecture's traps are not known here or no table is found. */
    public static Found find(KallsymsTable k, KernelLayout layout, KernelImage relocated) {
        Architecture arch = layout.arch() == null ? null : layout.arch().value();
        if (layout.bits() != 64 || (arch != Architecture.AARCH64 && arch != Architecture.X86)) return null;
        Image img = new Image(relocated.data(), relocated.length(), layout.order() == ByteOrder.BIG_ENDIAN, layout, arch);
        Long start = k.addressOf("__start___bug_table"), stop = k.addressOf("__stop___bug_table");
        if (start != null && stop != null && stop - start > 0) {
            long off = layout.fileOffsetOf(start);
            if (off < 0) return null;
            for (int stride : STRIDES) {
                if ((stop - start) % stride != 0) continue;
                int n = (int) ((stop - start) / stride);
                List<Site> sites = read(img, off, start, stride, n);
                if (sites.size() == n) return new Found(start, stride, "between __start___bug_table and __stop___bug_table", sites);
            }
            return null;
        }
        return scan(img);
    }

    /** The {@code n} entries at {@code off} (image offset of {@code va}), or fewer: up to the first whose address is no trap. */
    private static List<Site> read(Image img, long off, long va, int stride, int n) {
        List<Site> sites = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long at = off + (long) i * stride;
            if (at + stride > img.length()) break;
            long site = va + (long) i * stride + s32(img, (int) at);
            if (!isTrap(img, site)) break;
            int flags = u16(img, (int) at + (stride == 12 ? 10 : 4));
            sites.add(new Site(site, (flags & BUGFLAG_WARNING) != 0));
        }
        return sites;
    }

    /** The longest run of entries whose every displacement lands on a trap, in the image's non-executable regions. */
    private static Found scan(Image img) {
        Set<Long> traps = traps(img);
        if (traps.isEmpty()) return null;
        long bestVa = 0, bestOff = 0;
        int bestLen = 0, bestStride = 0;
        for (MemoryRegion r : img.layout().regions()) {
            if (!r.initialized() || r.permissions().contains("x")) continue;
            long end = Math.min(img.length(), r.fileOffset() + r.size());
            long first = r.fileOffset() + ((4 - (r.start() & 3)) & 3);
            for (int stride : STRIDES) {
                // runs at each of the stride's residues: a table starts on a 4-byte boundary
                for (int phase = 0; phase < stride; phase += 4) {
                    int len = 0;
                    for (long off = first + phase; off + stride <= end; off += stride) {
                        long va = r.start() + (off - r.fileOffset());
                        if (traps.contains(va + s32(img, (int) off))) {
                            len++;
                            if (len > bestLen) {
                                bestLen = len;
                                bestStride = stride;
                                bestOff = off - (long) (len - 1) * stride;
                                bestVa = va - (long) (len - 1) * stride;
                            }
                        } else {
                            len = 0;
                        }
                    }
                }
            }
        }
        if (bestLen < MIN_RUN) return null;
        return new Found(bestVa, bestStride, "by content (" + bestLen + " entries whose addresses are trap instructions)",
                read(img, bestOff, bestVa, bestStride, bestLen));
    }

    /**
     * Every trap instruction's address in the image. Not only in the regions known to be code:
     * without KALLSYMS_ALL nothing marks arm64's .exit.text, which follows init text and holds
     * BUG sites too; the trap's own encoding is the evidence.
     */
    private static Set<Long> traps(Image img) {
        Set<Long> out = new HashSet<>();
        for (MemoryRegion r : img.layout().regions()) {
            if (!r.initialized()) continue;
            long end = Math.min(img.length(), r.fileOffset() + r.size());
            int step = img.arch() == Architecture.AARCH64 ? 4 : 1;
            for (long off = r.fileOffset(); off + 4 <= end; off += step) {
                long va = r.start() + (off - r.fileOffset());
                if (isTrapAt(img, (int) off)) out.add(va);
            }
        }
        return out;
    }

    private static boolean isTrap(Image img, long va) {
        if (img.arch() == Architecture.AARCH64 && (va & 3) != 0) return false;
        MemoryRegion r = img.layout().regionOf(va);
        if (r == null || !r.initialized()) return false;
        long off = img.layout().fileOffsetOf(va);
        return off >= 0 && off + 4 <= img.length() && isTrapAt(img, (int) off);
    }

    /** arm64: brk #0x800 (BUG_BRK_IMM); x86: ud2. */
    private static boolean isTrapAt(Image img, int off) {
        if (img.arch() == Architecture.AARCH64) return (s32(img, off) & 0xffffffffL) == 0xd4210000L;
        return (img.data()[off] & 0xff) == 0x0f && (img.data()[off + 1] & 0xff) == 0x0b;
    }

    private static int s32(Image img, int off) {
        byte[] b = img.data();
        return img.big() ? (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff)
                : (b[off + 3] & 0xff) << 24 | (b[off + 2] & 0xff) << 16 | (b[off + 1] & 0xff) << 8 | (b[off] & 0xff);
    }

    private static int u16(Image img, int off) {
        byte[] b = img.data();
        return img.big() ? (b[off] & 0xff) << 8 | (b[off + 1] & 0xff) : (b[off + 1] & 0xff) << 8 | (b[off] & 0xff);
    }
}
