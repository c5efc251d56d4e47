package kernelloader.kallsyms;

import java.util.ArrayList;
import java.util.List;

import kernelloader.image.ByteView;

/**
 * The symbols' addresses: {@code kallsyms_addresses} or {@code kallsyms_offsets} (with
 * {@code kallsyms_relative_base} until 7.0). Before 6.4 they precede kallsyms_num_syms; from 6.4
 * (404bad70fcf7) they follow kallsyms_token_index. Which layout and which encoding a kernel
 * uses is read from the bytes: the decoded addresses must be sorted, as scripts/kallsyms.c
 * sorts the table by address, and every other reading of the same bytes is not.
 *
 * For SELF_RELATIVE tables {@link #addresses} are relative to file offset 0 of the image until a
 * base is known (see {@link kernelloader.evidence.BaseAddressVoter}).
 */
final class AddressTable {
    final AddressEncoding encoding;
    final int start;
    final int width;
    final int ptrSize;
    /** File offset of kallsyms_relative_base, or -1. */
    final int relativeBasePos;
    final long relativeBase;
    final long[] addresses;
    /** True when the table follows the token index (6.4+ order). */
    final boolean afterTokenIndex;

    AddressTable(AddressEncoding encoding, int start, int width, int ptrSize, int relativeBasePos,
                 long relativeBase, long[] addresses, boolean afterTokenIndex) {
        this.encoding = encoding;
        this.start = start;
        this.width = width;
        this.ptrSize = ptrSize;
        this.relativeBasePos = relativeBasePos;
        this.relativeBase = relativeBase;
        this.addresses = addresses;
        this.afterTokenIndex = afterTokenIndex;
    }

    int end() { return start + addresses.length * width; }

    /**
     * Whether the addresses are only known relative to something (a self-relative table, or a
     * relative_base left 0 for the boot-time relocation) and still need a base added.
     */
    boolean needsBase() {
        return encoding == AddressEncoding.SELF_RELATIVE
                || (encoding == AddressEncoding.RELATIVE_BASE && relativeBase == 0);
    }

    /** Every reading of the address arrays that is consistent, for one pointer size. */
    static List<AddressTable> find(ByteView v, int n, int after, NameTable names, int ptr) {
        List<AddressTable> out = new ArrayList<>();
        // 6.4+: right after kallsyms_token_index (512 bytes from an aligned label, so no padding),
        // or after the markers when names are stored uncompressed (then aligned to the word)
        for (int a : after % 8 == 0 ? new int[] {after} : new int[] {after, after + 4}) {
            if (!v.fits(a, 4L * n)) continue;
            AddressTable t = offsetsAt(v, a, n, ptr, a + 4 * n, true);
            if (t != null) out.add(t);
            if (ptr == 8 && a % ptr == 0 && v.fits(a, (long) ptr * n)) {   // 32-bit: ABSOLUTE_32 above
                t = absoluteAt(v, a, n, ptr, true);
                if (t != null) out.add(t);
            }
            if (!out.isEmpty()) break;
        }
        // before 6.4: ... offsets, relative_base, num_syms (or addresses, num_syms)
        for (NameTable.NumSyms ns : names.numSyms) {
            int s = ns.position();
            // relative_base: the pointer right before num_syms, or further back past the zero
            // padding of old ".align" directives. Relocatable kernels (arm64) store it as 0 and
            // let a RELA entry fill it at boot: then the base must come from elsewhere.
            for (int rb = alignDown(s - ptr, ptr); rb >= 0 && rb >= s - 264; rb -= ptr) {
                AddressTable found = null;
                for (int pad = 0; pad < 264 && found == null; pad += 4) {
                    int start = rb - pad - 4 * n;
                    if (start < 0) break;
                    if (pad > 0 && v.u32(rb - pad) != 0) break;   // only zeros may pad
                    found = offsetsAt(v, start, n, ptr, rb, false);
                }
                if (found != null) {
                    out.add(found);
                    break;
                }
                if (v.word(rb, ptr) != 0) break;
            }
            for (int pad = 0; pad < 264; pad += ptr) {
                int end = alignDown(s - pad, ptr), start = end - ptr * n;
                if (start < 0) break;
                // only zeros may pad (the era's .align): a word that is not ends the search
                if (pad > 0 && v.word(end, ptr) != 0) break;
                AddressTable t = absoluteAt(v, start, n, ptr, false);
                if (t != null) {
                    out.add(t);
                    break;
                }
            }
        }
        return out;
    }

    /** Zero offsets in a row, past the first entries, that no real table has (a 128-byte hole in the array). */
    static final int MAX_ZERO_RUN = 32;

    private static int alignDown(int x, int a) {
        return x - Math.floorMod(x, a);
    }

    /**
     * Reads u32 offsets at {@code start}; {@code rbPos} is where kallsyms_relative_base would be
     * (for the 6.4 order: aligned after the array; before 6.4: given).
     */
    private static AddressTable offsetsAt(ByteView v, int start, int n, int ptr, int rbPos, boolean after) {
        if (!anyOrderHolds(v, start, Math.min(n, 256))) return null;
        long[] raw = new long[n];
        int zeros = 0, run = 0;
        boolean zeroRun = false;
        for (int i = 0; i < n; i++) {
            raw[i] = v.u32(start + 4 * i);
            if (raw[i] == 0) zeros++;
            run = raw[i] == 0 ? run + 1 : 0;
            zeroRun |= run >= MAX_ZERO_RUN && i >= MAX_ZERO_RUN;
        }
        // zero-filled memory reads as a sorted array (self-relative: one symbol every 4 bytes),
        // as after the token index of a pre-6.4 table followed by padding; no real table has it.
        // Nor a run of zeros past its first entries (an offset of 0 is the first address, or the
        // entry's own position): memory zeroed inside the array, a dump with holes in it
        if (zeros > n / 2 || zeroRun) return null;
        if (after) rbPos = (rbPos + ptr - 1) / ptr * ptr;
        if (!v.fits(rbPos, ptr)) return null;
        long rb = v.word(rbPos, ptr);
        // scripts/kallsyms.c (4.6+) stores each address less relative_base: the offsets span
        // the kernel, far less than 2 GiB. relative_base is the lowest address it read, which
        // without KALLSYMS_ALL is _text, a symbol it then drops (outside the text ranges): the
        // first offset is then _stext - _text (0x330 on i386 4.8, 0xf8000 on ARM 4.14), not 0.
        // Absolute 32-bit addresses after a zero word (2.6/3.x ARM phones) read one word early
        // look like offsets from 0, with the last one as the base; they lie above 2 GiB.
        if (sorted(raw) && raw[n - 1] < (1L << 31)) {
            long[] addr = new long[n];
            for (int i = 0; i < n; i++) addr[i] = rb + raw[i];
            if (plausible(addr)) {
                return new AddressTable(AddressEncoding.RELATIVE_BASE, start, 4, ptr, rbPos, rb, addr, after);
            }
        }
        if (rb != 0 && ptr == 8) {
            long[] addr = new long[n];
            boolean anyNegative = false;
            for (int i = 0; i < n; i++) {
                int off = (int) raw[i];
                anyNegative |= off < 0;
                addr[i] = off >= 0 ? off : rb - 1 - off;
            }
            if (anyNegative && sortedUnsigned(addr) && plausible(addr)) {
                return new AddressTable(AddressEncoding.ABSOLUTE_PERCPU, start, 4, ptr, rbPos, rb, addr, after);
            }
        }
        if (after) {
            long[] rel = new long[n];
            for (int i = 0; i < n; i++) rel[i] = start + 4L * i + (int) raw[i];
            // 32-bit non-relocatable 7.0+ kernels store plain addresses. Checked first: sorted
            // addresses read as self-relative offsets are sorted too, but self-relative offsets of
            // a real table are not sorted as plain numbers (two symbols at one address make the
            // offset drop by 4).
            if (ptr == 4 && raw[0] != 0 && sorted(raw) && plausible(raw)) {
                return new AddressTable(AddressEncoding.ABSOLUTE_32, start, 4, ptr, -1, 0, raw, true);
            }
            if (sorted(rel) && plausible(rel) && rel[0] >= -(1L << 31)) {
                return new AddressTable(AddressEncoding.SELF_RELATIVE, start, 4, ptr, -1, 0, rel, true);
            }
        }
        return null;
    }

    private static AddressTable absoluteAt(ByteView v, int start, int n, int ptr, boolean after) {
        long[] addr = new long[n];
        for (int i = 0; i < n; i++) {
            addr[i] = v.word(start + ptr * i, ptr);
            // most candidate positions are wrong: stop at the first step back
            if (i > 0 && Long.compareUnsigned(addr[i], addr[i - 1]) < 0) return null;
        }
        // x86-64 SMP kernels before 4.6 start with their zero-based per-cpu symbols
        // (irq_stack_union at 0): a first address of 0 is a real one there, so the reading is
        // checked by what follows instead: the kernel's own addresses after the per-cpu ones
        if (addr[0] == 0 && !(ptr == 8 && perCpuThenKernel(addr))) return null;
        return plausible(addr) ? new AddressTable(AddressEncoding.ABSOLUTE, start, ptr, ptr, -1, 0, addr, after) : null;
    }

    /**
     * Zero-based per-cpu symbols then the kernel's: a short run of small values (under 16 MiB:
     * the per-cpu area) from 0, then addresses in the top half where 64-bit kernels live.
     */
    private static boolean perCpuThenKernel(long[] addr) {
        int i = 0;
        while (i < addr.length && addr[i] >= 0 && addr[i] < (16L << 20)) i++;
        return i > 0 && i < addr.length / 4 && addr[i] < 0;
    }

    /**
     * Cheap rejection of wrong positions: on its first entries, is the array sorted in any of
     * the ways an offsets table can be (plain, per-cpu split at the sign, self-relative)?
     */
    private static boolean anyOrderHolds(ByteView v, int start, int k) {
        boolean plain = true, percpu = true, self = true;
        for (int i = 1; i < k && (plain || percpu || self); i++) {
            int a = v.s32(start + 4 * (i - 1)), b = v.s32(start + 4 * i);
            plain &= Integer.compareUnsigned(b, a) >= 0;
            // per-cpu: non-negative values rise, then negative values fall (addresses rise)
            percpu &= (a >= 0 && b >= a) || (b < 0 && (a >= 0 || b <= a));
            self &= 4L + b >= a;
        }
        return plain || percpu || self;
    }

    private static boolean sorted(long[] a) {
        for (int i = 1; i < a.length; i++) if (a[i] < a[i - 1]) return false;
        return true;
    }

    private static boolean sortedUnsigned(long[] a) {
        for (int i = 1; i < a.length; i++) if (Long.compareUnsigned(a[i], a[i - 1]) < 0) return false;
        return true;
    }

    /**
     * Sorted garbage (zero fill, a counter) is not a symbol table: symbols mostly have distinct
     * addresses, so at least a quarter of the steps must move forward.
     */
    private static boolean plausible(long[] a) {
        int steps = 0;
        for (int i = 1; i < a.length; i++) if (a[i] != a[i - 1]) steps++;
        return a[a.length - 1] != a[0] && steps >= (a.length - 1) / 4;
    }
}
