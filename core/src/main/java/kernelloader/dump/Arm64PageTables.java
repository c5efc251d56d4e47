package kernelloader.dump;

/**
 * A running arm64 kernel's virtual addresses translated through its own page tables, read from
 * a dump of its physical memory: what QEMU's paging dump does for x86 and not for arm64, and what
 * a module's memory (vmalloc space) needs, since it is nowhere near the kernel image's linear
 * offset. The walk is the architecture's (Arm ARM D8, VMSAv8-64 translation, 4 KiB granule), from
 * the kernel's swapper_pg_dir (init_mm.pgd, what TTBR1_EL1 points to):
 * <ul>
 * <li>the VA size is 64 - TCR_EL1.T1SZ (VMCOREINFO's NUMBER(TCR_EL1_T1SZ)): 39 bits walk 3 levels,
 *     48 bits 4, 52 bits (FEAT_LPA2, TCR_EL1.DS = 1) 5, starting at level -1 with 16 entries;</li>
 * <li>each level resolves 9 bits; a descriptor is valid with bit 0, a table (levels above the
 *     last) or page (last level) with bit 1, else a block mapping the rest of the address;</li>
 * <li>output addresses are bits [49:12] of a descriptor (with LPA2, bits [51:50] are in [9:8]:
 *     read too).</li>
 * </ul>
 * Only the 4 KiB granule: Debian's arm64 kernels use it (16K and 64K kernels are refused by
 * the caller's page size).
 */
public final class Arm64PageTables {
    /** Physical memory as the dump holds it: {@code n} bytes at {@code pa}, or null where the dump has none. */
    public interface Physical {
        byte[] read(long pa, int n) throws java.io.IOException;
    }

    private static final long OA_MASK = 0x0003_ffff_ffff_f000L;
    private final Physical memory;
    private final long root;
    private final int vaBits, levels;
    private final boolean lpa2;

    private Arm64PageTables(Physical memory, long root, int vaBits) {
        this.memory = memory;
        this.root = root;
        this.vaBits = vaBits;
        this.levels = (vaBits - 12 + 8) / 9;
        this.lpa2 = vaBits > 48;
    }

    /**
     * The tables rooted at physical {@code root} (swapper_pg_dir's physical address), for a VA
     * size of 64 - {@code t1sz} bits.
     */
    public static Arm64PageTables of(Physical memory, long root, int t1sz) {
        int bits = 64 - t1sz;
        if (bits < 25 || bits > 52) throw new IllegalArgumentException("TCR_EL1.T1SZ " + t1sz + " gives no 4 KiB-granule translation");
        return new Arm64PageTables(memory, root, bits);
    }

    public int vaBits() { return vaBits; }
    public int levels() { return levels; }

    /** The physical address of {@code va}, or null where it is not mapped (or the tables are not in the dump). */
    public Long physical(long va) throws java.io.IOException {
        // a kernel address: bits [63:vaBits] all ones (TTBR1's half)
        if (vaBits < 64 && (va >> vaBits) != -1L) return null;
        long table = root;
        for (int level = 0; level < levels; level++) {
            int shift = 12 + 9 * (levels - 1 - level);
            int width = level == 0 ? vaBits - shift : 9;
            long index = (va >>> shift) & ((1L << width) - 1);
            byte[] d = memory.read(table + index * 8, 8);
            if (d == null) return null;
            long desc = java.nio.ByteBuffer.wrap(d).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            if ((desc & 1) == 0) return null;
            long out = desc & OA_MASK;
            if (lpa2) out |= ((desc >>> 8) & 3) << 50;
            boolean last = level == levels - 1;
            if (last) {
                if ((desc & 2) == 0) return null;   // reserved at the last level
                return out | (va & 0xfff);
            }
            if ((desc & 2) == 0) {   // a block: the rest of the address is its offset
                long size = 1L << shift;
                return (out & ~(size - 1)) | (va & (size - 1));
            }
            table = out;
        }
        return null;
    }

    /** {@code n} bytes at virtual {@code va}, page by page; null where any of them is not mapped. */
    public byte[] read(long va, int n) throws java.io.IOException {
        byte[] out = new byte[n];
        int done = 0;
        while (done < n) {
            long a = va + done;
            Long pa = physical(a);
            if (pa == null) return null;
            int take = (int) Math.min(n - done, 0x1000 - (a & 0xfff));
            byte[] b = memory.read(pa, take);
            if (b == null) return null;
            System.arraycopy(b, 0, out, done, take);
            done += take;
        }
        return out;
    }
}
