package kernelloader.ksymtab;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import kernelloader.image.KernelImage;
import kernelloader.layout.Architecture;
import kernelloader.layout.Inference;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;

/**
 * A kernel image holding export tables laid out the way a given era's include/linux/export.h
 * and vmlinux.lds.h lay them out: __ksymtab sections sorted by name, __kcrctab in the same order,
 * __kflagstab, __ksymtab_strings, between random bytes. For eras no real kernel here covers.
 */
final class SyntheticKsymtab {
    int bits = 64;
    ByteOrder order = ByteOrder.LITTLE_ENDIAN;
    Architecture arch = Architecture.AARCH64;
    boolean relative = true;
    boolean namespaces = true;
    /** 5.4 wrote a null namespace field for exports without one; later kernels point at "". */
    boolean nullNamespace;
    CrcStorage crcs = CrcStorage.U32;
    /** __kflagstab after the CRCs; with {@code oneTable} every kind is in __ksymtab (the 2026 fold). */
    boolean flags;
    boolean oneTable;
    final List<KernelExport> exports = new ArrayList<>();

    private static final int TABLES = 0x20000;

    /** Adds {@code count} exports of {@code kind} with made-up names and CRCs; every 7th in namespace {@code ns}. */
    SyntheticKsymtab add(ExportKind kind, int count, String ns, long seed) {
        Random r = new Random(seed);
        TreeSet<String> names = new TreeSet<>();
        String[] parts = {"dev", "skb", "kmem", "_raw", "__put", "usb", "pci", "ZSTD", "mutex", "irq", "dma", "of"};
        while (names.size() < count) {
            names.add(parts[r.nextInt(parts.length)] + "_" + Integer.toString(r.nextInt(1 << 20), 36) + "_" + kind.ordinal());
        }
        int i = 0;
        for (String n : names) {
            String space = ns != null && i++ % 7 == 0 ? ns : "";
            exports.add(new KernelExport(n, 0, kind, space, r.nextInt() & 0xffffffffL));
        }
        return this;
    }

    long base() { return bits == 64 ? 0xffffffc010000000L : 0xc0008000L; }

    /** The exports in table order: by section (kind), then by name; one sorted table when folded. */
    List<KernelExport> tableOrder() {
        List<KernelExport> l = new ArrayList<>(exports);
        l.sort((a, b) -> oneTable ? a.name().compareTo(b.name())
                : a.kind() != b.kind() ? a.kind().compareTo(b.kind()) : a.name().compareTo(b.name()));
        return l;
    }

    KernelImage image(int length) {
        byte[] d = new byte[length];
        new Random(99).nextBytes(d);
        ByteBuffer b = ByteBuffer.wrap(d).order(order);
        List<KernelExport> t = tableOrder();
        int word = bits / 8;
        int field = relative ? 4 : word;
        int entry = field * (namespaces ? 3 : 2);
        int n = t.size();
        int crcSize = crcs == CrcStorage.NONE ? 0 : crcs == CrcStorage.ULONG ? word : 4;
        int crcAt = align(TABLES + n * entry, Math.max(1, crcSize));
        int flagsAt = crcAt + n * crcSize;
        int stringsAt = flagsAt + (flags ? n : 0);
        // the strings: each name, then its namespace (5.4 on)
        int s = stringsAt;
        int[] nameAt = new int[n];
        int[] nsAt = new int[n];
        for (int i = 0; i < n; i++) {
            nameAt[i] = s;
            s = putString(d, s, t.get(i).name());
            nsAt[i] = s;
            s = putString(d, s, t.get(i).namespace());
        }
        int relCrcs = align(s + 64, 4);  // MODULE_REL_CRCS: the values live in .rodata
        for (int i = 0; i < n; i++) {
            int e = TABLES + i * entry;
            put(b, e, field, relative, 0x1000 + 16 * i);
            put(b, e + field, field, relative, nameAt[i]);
            if (namespaces) {
                if (nullNamespace && t.get(i).namespace().isEmpty()) put(b, e + 2 * field, field, false, -1);
                else put(b, e + 2 * field, field, relative, nsAt[i]);
            }
            long crc = t.get(i).crc();
            switch (crcs) {
                case U32 -> b.putInt(crcAt + 4 * i, (int) crc);
                case ULONG -> { if (word == 8) b.putLong(crcAt + 8 * i, crc); else b.putInt(crcAt + 4 * i, (int) crc); }
                case RELATIVE -> {
                    b.putInt(relCrcs + 4 * i, (int) crc);
                    b.putInt(crcAt + 4 * i, (relCrcs + 4 * i) - (crcAt + 4 * i));
                }
                case NONE -> { }
            }
            if (flags) d[flagsAt + i] = (byte) (t.get(i).kind().gplOnly() ? 1 : 0);
        }
        return new KernelImage(d, length, List.of(), null);
    }

    KernelLayout layout() {
        return new KernelLayout(Inference.certain(arch, "test"), bits, order, Inference.certain(base(), "test"),
                List.of(new MemoryRegion(".data", base(), 1 << 22, 0, "rw-")), Inference.certain(base(), "test"));
    }

    /** Writes a field: an absolute address, a PREL32 offset from the field, or (target -1) a null pointer. */
    private void put(ByteBuffer b, int at, int size, boolean rel, int targetOffset) {
        long target = targetOffset < 0 ? 0 : base() + targetOffset;
        if (rel) b.putInt(at, targetOffset < 0 ? 0 : targetOffset - at);
        else if (size == 8) b.putLong(at, target);
        else b.putInt(at, (int) target);
    }

    private static int putString(byte[] d, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(b, 0, d, at, b.length);
        d[at + b.length] = 0;
        return at + b.length + 1;
    }

    private static int align(int v, int a) {
        return (v + a - 1) / a * a;
    }
}
