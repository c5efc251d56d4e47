package kernelloader.ksymtab;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import kernelloader.evidence.BaseAddressVoter;
import kernelloader.evidence.StringPointers;
import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.Inference;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.LayoutInference;
import kernelloader.layout.MemoryRegion;

/**
 * The symbol table of a kernel built without CONFIG_KALLSYMS but with modules: its __ksymtab
 * names and addresses, the only symbols such a kernel carries. Without a symbol table the image
 * must say where it lives by itself: the ELF program headers; else the image's pointers to its
 * own strings (the absolute name pointers of pre-4.19 and 32-bit export entries among them);
 * else, for PREL32 entries, which read the same at any base, the image's pointers at the
 * exported functions.
 *
 * <p>Type letters: in an ELF, by the permissions of the section a value lies in; in a raw image
 * by the kernel's link order (text, then read-only data holding __ksymtab, then data): below
 * the table 'T', above it 'D'.
 */
public final class ExportsAsSymbols {
    private ExportsAsSymbols() {}

    /** One way of reading the exports as a table: tried only when the ones before it were refused. */
    @FunctionalInterface
    public interface Attempt {
        /** The table, or null where this reading finds none; the exception says why. */
        KallsymsTable read() throws KernelFormatException;
    }

    /**
     * The ways to read the exports of {@code img} as a symbol table, likeliest first, each with
     * the base it fixes for a raw image; the caller takes the first whose content checks pass.
     *
     * @param bits a word size the user gave, or null
     * @param base the address of the image's first byte the user gave, or null
     */
    public static List<Attempt> attempts(KernelImage img, Integer bits, Long base) {
        List<Attempt> out = new ArrayList<>();
        if (img.elf() != null) {
            out.add(() -> fromElf(img));
            return out;
        }
        List<Reading> readings = new ArrayList<>();
        for (int b : bits != null ? new int[] {bits} : new int[] {64, 32}) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) readings.add(new Reading(b, order));
        }
        if (base != null) {
            for (Reading r : readings) out.add(() -> placed(img, r, base, "base 0x" + Long.toHexString(base) + " given by the user"));
            return out;
        }
        // 1. a base voted by pointers at strings, in the top half of the address space where
        // kernels live first (s390x aside); the strongest votes first
        List<Object[]> voted = new ArrayList<>();
        for (Reading r : readings) {
            ByteView v = new ByteView(img.data(), img.length(), r.order());
            BaseAddressVoter.Vote vote = r.bits() == 32 ? StringPointers.vote(v, 4, 0x80000000L, 0x100000000L)
                    : StringPointers.vote(v, 8, Long.MIN_VALUE, -1L);
            if (!decisive(vote) && r.bits() == 64) vote = StringPointers.vote(v, 8, 0, 0);
            if (decisive(vote)) voted.add(new Object[] {r, vote});
        }
        voted.sort((x, y) -> Integer.compare(((BaseAddressVoter.Vote) y[1]).votes(), ((BaseAddressVoter.Vote) x[1]).votes()));
        for (Object[] rv : voted) {
            Reading r = (Reading) rv[0];
            BaseAddressVoter.Vote vote = (BaseAddressVoter.Vote) rv[1];
            out.add(() -> placed(img, r, vote.base(), String.format("base 0x%x, voted by %d of %d pointer-like words at strings (runner-up %d)",
                    vote.base(), vote.votes(), vote.voters(), vote.runnerUp())));
        }
        // 2. PREL32 entries read the same at any base: find them at 0, then let the image's
        // pointers at the exported functions say where the image is
        for (Reading r : readings) out.add(() -> relative(img, r));
        return out;
    }

    /**
     * The exports read through a memory map that is already known (a Ghidra program's): what
     * the analyzer and the scripts fall back on in a program holding a kernel without kallsyms.
     */
    public static KallsymsTable through(KernelImage memory, KernelLayout layout) throws KernelFormatException {
        return table(KsymtabFinder.find(memory, layout, null, null), layout, layout.bits(), layout.order(), null,
                "placed by the program's memory map");
    }

    /** A word size and byte order to read the image with. */
    private record Reading(int bits, ByteOrder order) {
        @Override
        public String toString() {
            return bits + "-bit " + (order == ByteOrder.LITTLE_ENDIAN ? "little" : "big") + "-endian";
        }
    }

    private static KallsymsTable fromElf(KernelImage img) throws KernelFormatException {
        int bits = img.elf().bits();
        ByteOrder order = img.elf().order();
        KallsymsTable none = KallsymsTable.of(KallsymsTable.Origin.EXPORTS, bits, order, new long[0], new byte[0], new String[0], "");
        KernelLayout l = LayoutInference.infer(img, none, new LayoutInference.Overrides(null, null));
        return table(KsymtabFinder.find(img, l, null, null), l, bits, order, null, "placed by the ELF program headers");
    }

    private static KallsymsTable placed(KernelImage img, Reading r, long base, String how) throws KernelFormatException {
        KernelLayout l = flat(img, r.bits(), r.order(), base);
        return table(KsymtabFinder.find(img, l, null, null), l, r.bits(), r.order(), base, how);
    }

    private static KallsymsTable relative(KernelImage img, Reading r) throws KernelFormatException {
        int bits = r.bits();
        ByteOrder order = r.order();
        ExportTable t = KsymtabFinder.find(img, flat(img, bits, order, 0), null, null);
        if (!t.format().relative()) return null;   // absolute entries need the base first (attempts above)
        long[] offsets = new long[t.exports().size()];
        for (int i = 0; i < offsets.length; i++) offsets[i] = t.exports().get(i).value();
        int from = (int) t.ksymtabAddress();
        int to = (int) Math.max(from, t.stringsAddress());
        ByteView v = new ByteView(img.data(), img.length(), order);
        BaseAddressVoter.Vote vote = BaseAddressVoter.vote(v, offsets, bits / 8, from, to);
        if (!decisive(vote)) {
            throw new KernelFormatException(String.format("%d PREL32 exports found at image offset 0x%x, but the image's pointers"
                    + " do not say where it is loaded (vote %s): give the base address with --base", offsets.length, from,
                    vote == null ? "empty" : vote.votes() + " vs " + vote.runnerUp()));
        }
        return placed(img, r, vote.base(), String.format(
                "PREL32 entries + base 0x%x, voted by %d of %d pointer-like words at the exported functions (runner-up %d)",
                vote.base(), vote.votes(), vote.voters(), vote.runnerUp()));
    }

    /**
     * Twice the runner-up: a base is only taken if the export table is then found at it, and
     * the reading then passes the content checks (a relocatable arm64 Image's strings vote 2.3
     * to 1 for its base: its RELA addends are its only pointers).
     */
    private static boolean decisive(BaseAddressVoter.Vote vote) {
        return vote != null && vote.votes() >= 16 && vote.votes() >= 2 * vote.runnerUp();
    }

    /** The whole image as one region at {@code base}: all there is to go by without symbols. */
    private static KernelLayout flat(KernelImage img, int bits, ByteOrder order, long base) {
        return new KernelLayout(null, bits, order, Inference.weak(base, "provisional"),
                List.of(new MemoryRegion("image", base, img.length(), 0, "rwx")), Inference.weak(base, "provisional"));
    }

    private static KallsymsTable table(ExportTable t, KernelLayout l, int bits, ByteOrder order, Long imageBase, String how) {
        List<KernelExport> e = new ArrayList<>(t.exports());
        e.sort((a, b) -> Long.compareUnsigned(a.value(), b.value()));
        long[] addr = new long[e.size()];
        byte[] types = new byte[e.size()];
        String[] names = new String[e.size()];
        for (int i = 0; i < e.size(); i++) {
            addr[i] = e.get(i).value();
            names[i] = e.get(i).name();
            types[i] = (byte) type(l, imageBase != null, t.ksymtabAddress(), addr[i]);
        }
        String source = String.format("__ksymtab at 0x%x: %d exports, the only symbols a kernel without kallsyms has; %s",
                t.ksymtabAddress(), e.size(), how);
        KallsymsTable table = KallsymsTable.of(KallsymsTable.Origin.EXPORTS, bits, order, addr, types, names, source);
        return imageBase == null ? table : table.placedAt(imageBase);
    }

    private static char type(KernelLayout l, boolean raw, long ksymtab, long value) {
        if (raw) return Long.compareUnsigned(value, ksymtab) < 0 ? 'T' : 'D';
        MemoryRegion r = l.regionOf(value);
        if (r == null) return 'D';
        if (!r.initialized()) return 'B';
        return r.permissions().indexOf('x') >= 0 ? 'T' : r.permissions().indexOf('w') >= 0 ? 'D' : 'R';
    }
}
