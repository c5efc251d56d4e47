package kernelloader.kallsyms;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Builds kallsyms tables the way each era's scripts/kallsyms.c built them, for the eras no real
 * kernel in the corpus covers: the same token compression (insert_real_symbols_in_table,
 * optimize_result, compress_symbols), the same arrays in the same order with the same widths,
 * and the padding each era's ALGN directive produced.
 */
final class SyntheticKallsyms {

    /** Which scripts/kallsyms.c wrote the table. */
    enum Era {
        /** 2.6.10-4.5: kallsyms_addresses, PTR num_syms and markers. */
        V2_6_10,
        /** 4.6-4.19 (2213e9a66bb8): kallsyms_offsets + relative_base, PTR num_syms and markers. */
        V4_6,
        /** 4.20-6.0 (80ffbaa5b1bd): u32 num_syms and markers. */
        V4_20,
        /** 6.1 (73bbb94466fd): ULEB128 name lengths. */
        V6_1,
        /** 6.2-rc (60443c88f3a8): kallsyms_seqs_of_names as u32 before the token table. */
        V6_2_RC,
        /** 6.2-6.3 (19bd8981dc2e): seqs_of_names as 3 big-endian bytes. */
        V6_2,
        /** 6.4-6.19 (404bad70fcf7): num_syms, names, markers, tokens, then addresses. */
        V6_4,
        /** 7.0+ (a081b5789255): no relative_base, PC-relative offsets, every label .balign 4. */
        V7_0
    }

    record Symbol(long address, char type, String name) {}

    /** The built table: the bytes of a .rodata-like region and where each array went. */
    record Built(byte[] bytes, List<Symbol> symbols, int offsetsStart) {}

    Era era = Era.V6_4;
    int bits = 64;
    ByteOrder order = ByteOrder.LITTLE_ENDIAN;
    /** Bytes of the ALGN directive: .balign PTR, or GNU as ".align 4"/".align 8" on ARM = 16/256. */
    int align = 0;
    boolean baseRelative = true;
    boolean absolutePercpu = false;
    boolean uncompressed = false;
    /** For 7.0 and zeroed-relative-base tables: where the region will be loaded. */
    long regionAddress;
    /** Store relative_base as 0 (relocatable kernels leave it to a boot-time RELA entry). */
    boolean zeroRelativeBase = false;

    int ptr() { return bits / 8; }
    int alignment() { return align != 0 ? align : era == Era.V7_0 ? 4 : ptr(); }

    // ---------------------------------------------------------------- symbol generation

    private static final String[] WORDS = {"sys", "do", "kmem", "cache", "alloc", "free", "page", "tcp", "udp",
        "ext4", "inode", "dentry", "vfs", "read", "write", "open", "close", "sched", "task", "irq", "timer",
        "spin", "lock", "unlock", "mutex", "rcu", "net", "dev", "pci", "usb", "init", "exit", "probe",
        "remove", "get", "put", "set", "show", "store", "handle", "fault", "map", "unmap", "buf", "queue",
        "work", "event", "trace", "bpf", "seq", "file", "ops", "kobj", "attr", "mm", "vma", "pte", "pmd"};

    /**
     * A plausible kernel symbol list: text symbols from {@code textBase}, then data; aliases, a few
     * names over 127 characters (two-byte lengths from 6.1), and optional per-cpu symbols.
     */
    static List<Symbol> symbols(long seed, int count, long textBase, boolean percpu, boolean longNames) {
        Random r = new Random(seed);
        List<Symbol> out = new ArrayList<>();
        if (percpu) {
            long a = 0;
            for (int i = 0; i < 40; i++) {
                out.add(new Symbol(a, 'A', "percpu_" + WORDS[r.nextInt(WORDS.length)] + "_" + i));
                a += 8 * (1 + r.nextInt(64));
            }
        }
        long addr = textBase;
        out.add(new Symbol(addr, 'T', "_stext"));
        int textCount = count * 3 / 4;
        for (int i = 1; i < count; i++) {
            boolean text = i < textCount;
            // functions a few instructions to a few dozen long, 4-aligned (every architecture's
            // instruction start), all inside the image's first 192 KiB (SyntheticImage.TEXT);
            // data further apart; 1 in 20 aliases the last
            if (r.nextInt(20) != 0) addr += text ? 4L * (1 + r.nextInt(16)) : 16L * (1 + r.nextInt(40));
            StringBuilder name = new StringBuilder();
            if (r.nextInt(4) == 0) name.append("__");
            int parts = 2 + r.nextInt(3);
            for (int k = 0; k < parts; k++) {
                if (k > 0) name.append('_');
                name.append(WORDS[r.nextInt(WORDS.length)]);
            }
            if (r.nextInt(3) == 0) name.append(r.nextInt(100));
            if (r.nextInt(10) == 0) name.append(".isra.").append(r.nextInt(9));
            if (longNames && i % 97 == 0) {
                // Rust-style mangled names with hashes: long even after token compression
                name.append("_ZN4core3ptr");
                while (name.length() < 300 + r.nextInt(150)) name.append(Long.toString(r.nextLong() & Long.MAX_VALUE, 36));
            }
            char type = text ? (r.nextBoolean() ? 'T' : 't') : "DdRrBb".charAt(r.nextInt(6));
            out.add(new Symbol(addr, type, name.toString()));
        }
        out.sort((a, b) -> Long.compareUnsigned(a.address(), b.address()));
        return out;
    }

    // ---------------------------------------------------------------- token compression

    private byte[][] tokens;      // best_table, expanded
    private byte[][] compressed;  // per symbol

    private void compress(List<Symbol> syms) {
        int n = syms.size();
        byte[][] table = new byte[n][];
        int[] len = new int[n];
        for (int i = 0; i < n; i++) {
            byte[] s = (syms.get(i).type() + syms.get(i).name()).getBytes(StandardCharsets.ISO_8859_1);
            table[i] = s;
            len[i] = s.length;
        }
        byte[][] best = new byte[256][];
        if (!uncompressed) {
            int[] profit = new int[0x10000];
            for (int i = 0; i < n; i++) learn(profit, table[i], len[i], 1);
            for (int i = 0; i < n; i++) for (int j = 0; j < len[i]; j++) best[table[i][j] & 0xff] = new byte[] {table[i][j]};
            for (int i = 255; i >= 0; i--) {
                if (best[i] != null) continue;
                int b = 0, bp = -10000;
                for (int k = 0; k < 0x10000; k++) if (profit[k] > bp) { bp = profit[k]; b = k; }
                if (profit[b] == 0) break;
                best[i] = new byte[] {(byte) (b & 0xff), (byte) (b >> 8)};
                for (int s = 0; s < n; s++) {
                    int l = len[s];
                    byte[] p = table[s];
                    int at = find(p, l, best[i]);
                    if (at < 0) continue;
                    learn(profit, p, l, -1);
                    int w = 0;
                    for (int rd = 0; rd < l; rd++) {
                        if (rd + 1 < l && p[rd] == best[i][0] && p[rd + 1] == best[i][1]) {
                            p[w++] = (byte) i;
                            rd++;
                        } else {
                            p[w++] = p[rd];
                        }
                    }
                    len[s] = w;
                    learn(profit, p, w, 1);
                }
            }
        }
        compressed = new byte[n][];
        for (int i = 0; i < n; i++) compressed[i] = Arrays.copyOf(table[i], len[i]);
        tokens = new byte[256][];
        for (int i = 0; i < 256; i++) tokens[i] = expand(best, i);
    }

    private static void learn(int[] profit, byte[] s, int len, int d) {
        for (int i = 0; i < len - 1; i++) profit[(s[i] & 0xff) | (s[i + 1] & 0xff) << 8] += d;
    }

    private static int find(byte[] s, int len, byte[] tok) {
        for (int i = 0; i < len - 1; i++) if (s[i] == tok[0] && s[i + 1] == tok[1]) return i;
        return -1;
    }

    private static byte[] expand(byte[][] best, int i) {
        if (best[i] == null) return new byte[0];
        if (best[i].length == 1 && (best[i][0] & 0xff) == i) return best[i];
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte b : best[i]) o.writeBytes(expand(best, b & 0xff));
        return o.toByteArray();
    }

    // ---------------------------------------------------------------- array output

    private final class Out {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        void label() { while (b.size() % alignment() != 0) b.write(0); }
        int pos() { return b.size(); }
        void u8(int v) { b.write(v); }
        void u16(int v) { b.writeBytes(ByteBuffer.allocate(2).order(order).putShort((short) v).array()); }
        void u32(long v) { b.writeBytes(ByteBuffer.allocate(4).order(order).putInt((int) v).array()); }
        void ptr(long v) {
            if (bits == 64) b.writeBytes(ByteBuffer.allocate(8).order(order).putLong(v).array());
            else u32(v);
        }
    }

    Built build(List<Symbol> syms) {
        compress(syms);
        int n = syms.size();
        boolean preV4_20 = era == Era.V2_6_10 || era == Era.V4_6;
        boolean relative = baseRelative && era != Era.V2_6_10;
        long relativeBase = 0;
        for (Symbol s : syms) {
            if (!(absolutePercpu && s.type() == 'A')) {
                relativeBase = s.address();
                break;
            }
        }
        Out o = new Out();
        int[] markers = new int[(n + 255) / 256];
        int offsetsStart = -1;
        boolean newOrder = era == Era.V6_4 || era == Era.V7_0;
        if (!newOrder) offsetsStart = addresses(o, syms, relative, relativeBase);
        o.label();
        if (preV4_20) o.ptr(n); else o.u32(n);
        o.label();
        int off = 0;
        for (int i = 0; i < n; i++) {
            if ((i & 0xff) == 0) markers[i >> 8] = off;
            int l = compressed[i].length;
            boolean uleb = era.compareTo(Era.V6_1) >= 0;
            if (l > 0x7f && uleb) {
                o.u8((l & 0x7f) | 0x80);
                o.u8(l >> 7);
                off += 2;
            } else {
                if (l > 0xff) throw new IllegalStateException("name too long for this era");
                o.u8(l);
                off += 1;
            }
            o.b.writeBytes(compressed[i]);
            off += l;
        }
        o.label();
        for (int m : markers) {
            if (preV4_20) o.ptr(m); else o.u32(m);
        }
        if (era == Era.V6_2_RC || era == Era.V6_2) seqs(o, syms, era == Era.V6_2_RC);
        if (!uncompressed) {
            o.label();
            int[] idx = new int[256];
            int t = 0;
            for (int i = 0; i < 256; i++) {
                idx[i] = t;
                o.b.writeBytes(tokens[i]);
                o.u8(0);
                t += tokens[i].length + 1;
            }
            o.label();
            for (int i = 0; i < 256; i++) o.u16(idx[i]);
        }
        if (newOrder) {
            offsetsStart = addresses(o, syms, relative, relativeBase);
            seqs(o, syms, false);
        }
        o.label();
        return new Built(o.b.toByteArray(), syms, offsetsStart);
    }

    /** kallsyms_addresses or kallsyms_offsets (+ relative_base); returns where it starts. */
    private int addresses(Out o, List<Symbol> syms, boolean relative, long relativeBase) {
        o.label();
        int start = o.pos();
        if (era == Era.V7_0) {
            for (int i = 0; i < syms.size(); i++) {
                long a = syms.get(i).address();
                if (bits == 64) o.u32(a - (regionAddress + start + 4L * i));   // .long sym - .
                else o.u32(a);
            }
            return start;
        }
        if (!relative) {
            for (Symbol s : syms) o.ptr(s.address());
            return start;
        }
        for (Symbol s : syms) {
            long a = s.address();
            if (!absolutePercpu) o.u32(a - relativeBase);
            else if (s.type() == 'A') o.u32(a);
            else o.u32(relativeBase - a - 1);
        }
        o.label();
        o.ptr(zeroRelativeBase ? 0 : relativeBase);
        return start;
    }

    private void seqs(Out o, List<Symbol> syms, boolean asLong) {
        Integer[] order = new Integer[syms.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.<Integer, String>comparing(i -> syms.get(i).name())
                .thenComparingLong(i -> syms.get(i).address()).thenComparingInt(i -> i));
        o.label();
        for (int seq : order) {
            if (asLong) o.u32(seq);
            else {
                o.u8(seq >> 16);
                o.u8(seq >> 8);
                o.u8(seq);
            }
        }
    }
}
