package kernelloader.kallsyms;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

/**
 * Puts a synthetic kallsyms region into a kernel-like image: code-like random bytes before it,
 * a data section of pointers to symbols after it (what function-pointer tables and relocation
 * addends look like), optionally inside a minimal ELF whose program header places it.
 */
final class SyntheticImage {
    static final int TEXT = 192 * 1024;

    final byte[] bytes;
    final int regionOffset;

    private SyntheticImage(byte[] bytes, int regionOffset) {
        this.bytes = bytes;
        this.regionOffset = regionOffset;
    }

    /** Region offset in the raw image: kallsyms builders need it before building (7.0 offsets). */
    static int regionOffset() { return TEXT; }

    /**
     * @param pointers how many pointer-sized words pointing at symbols to put after the table;
     *                 at least one per two text symbols, as a kernel's operation tables and
     *                 initcalls point at its functions (the content checks count them)
     */
    static SyntheticImage raw(SyntheticKallsyms.Built built, SyntheticKallsyms k, long seed, int pointers) {
        Random r = new Random(seed);
        int ptr = k.ptr();
        List<SyntheticKallsyms.Symbol> text = new java.util.ArrayList<>();
        for (SyntheticKallsyms.Symbol s : built.symbols()) if (s.type() == 'T' || s.type() == 't') text.add(s);
        pointers = Math.max(pointers, text.size() / 2);
        int dataLen = pointers * ptr * 2;
        byte[] img = new byte[TEXT + built.bytes().length + 4096 + dataLen + 4096];
        for (int i = 0; i < TEXT; i++) img[i] = (byte) r.nextInt(256);
        System.arraycopy(built.bytes(), 0, img, TEXT, built.bytes().length);
        int data = (TEXT + built.bytes().length + 4095) & ~4095;
        ByteBuffer bb = ByteBuffer.wrap(img).order(k.order);
        List<SyntheticKallsyms.Symbol> syms = built.symbols();
        for (int i = 0; i < pointers; i++) {
            long target = (text.isEmpty() ? syms : text).get(r.nextInt((text.isEmpty() ? syms : text).size())).address();
            int at = data + i * ptr * 2;
            if (ptr == 8) bb.putLong(at, target); else bb.putInt(at, (int) target);
            // something that is not a pointer in between: flags, small counts
            if (ptr == 8) bb.putLong(at + 8, r.nextInt(4096)); else bb.putInt(at + 4, r.nextInt(4096));
        }
        return new SyntheticImage(img, TEXT);
    }

    /**
     * Writes one pointer per two text symbols at {@code at} (an operation table's worth of
     * function pointers: what the content checks look for), for images built by hand.
     */
    static void functionPointers(byte[] img, int at, List<SyntheticKallsyms.Symbol> syms, int ptr, ByteOrder order, long seed) {
        Random r = new Random(seed);
        List<SyntheticKallsyms.Symbol> text = new java.util.ArrayList<>();
        for (SyntheticKallsyms.Symbol s : syms) if (s.type() == 'T' || s.type() == 't') text.add(s);
        ByteBuffer bb = ByteBuffer.wrap(img).order(order);
        for (int i = 0; i < text.size() / 2; i++) {
            long target = text.get(r.nextInt(text.size())).address();
            if (ptr == 8) bb.putLong(at + 8 * i, target); else bb.putInt(at + 4 * i, (int) target);
        }
    }

    /** The same raw image behind an ELF header whose one PT_LOAD maps it to {@code vaddr}. */
    static byte[] elf(byte[] raw, int bits, ByteOrder order, long vaddr, int machine) {
        int hdr = 0x1000;
        byte[] out = new byte[hdr + raw.length];
        ByteBuffer b = ByteBuffer.wrap(out).order(order);
        out[0] = 0x7f; out[1] = 'E'; out[2] = 'L'; out[3] = 'F';
        out[4] = (byte) (bits == 64 ? 2 : 1);
        out[5] = (byte) (order == ByteOrder.LITTLE_ENDIAN ? 1 : 2);
        out[6] = 1;
        b.putShort(16, (short) 2);           // ET_EXEC
        b.putShort(18, (short) machine);
        b.putInt(20, 1);
        if (bits == 64) {
            b.putLong(24, vaddr);             // e_entry
            b.putLong(32, 64);                // e_phoff
            b.putShort(52, (short) 64);       // e_ehsize
            b.putShort(54, (short) 56);       // e_phentsize
            b.putShort(56, (short) 1);        // e_phnum
            int p = 64;
            b.putInt(p, 1);                   // PT_LOAD
            b.putInt(p + 4, 5);
            b.putLong(p + 8, hdr);
            b.putLong(p + 16, vaddr);
            b.putLong(p + 24, vaddr);
            b.putLong(p + 32, raw.length);
            b.putLong(p + 40, raw.length);
            b.putLong(p + 48, 0x1000);
        } else {
            b.putInt(24, (int) vaddr);
            b.putInt(28, 52);
            b.putShort(40, (short) 52);
            b.putShort(42, (short) 32);
            b.putShort(44, (short) 1);
            int p = 52;
            b.putInt(p, 1);
            b.putInt(p + 4, hdr);
            b.putInt(p + 8, (int) vaddr);
            b.putInt(p + 12, (int) vaddr);
            b.putInt(p + 16, raw.length);
            b.putInt(p + 20, raw.length);
            b.putInt(p + 24, 5);
            b.putInt(p + 28, 0x1000);
        }
        System.arraycopy(raw, 0, out, hdr, raw.length);
        return out;
    }
}
