package kernelloader.kallsyms;

import java.nio.ByteOrder;
import java.util.Random;

/** Small kernel-like images with a real-format kallsyms table, for fuzz seeds (kernelloader.fuzz). */
public final class SeedImages {
    private static final int PREFIX = 64 * 1024;

    private SeedImages() {}

    /** 4.20-style table (offsets, relative base), 32-bit little-endian: an armhf kernel of 2019. */
    public static byte[] armhf420(int symbols) {
        return image(SyntheticKallsyms.Era.V4_20, 32, ByteOrder.LITTLE_ENDIAN, symbols, 0xc0100000L);
    }

    /** 6.4-style table, 64-bit little-endian. */
    public static byte[] arm64v64(int symbols) {
        return image(SyntheticKallsyms.Era.V6_4, 64, ByteOrder.LITTLE_ENDIAN, symbols, 0xffff800008010000L);
    }

    /** 2.6.10-style absolute addresses, 64-bit big-endian (ppc64, s390x of old). */
    public static byte[] ppc64Absolute(int symbols) {
        return image(SyntheticKallsyms.Era.V2_6_10, 64, ByteOrder.BIG_ENDIAN, symbols, 0xc000000000008000L);
    }

    /**
     * An OpenWrt-style MIPS kernel image: 32-bit big-endian, 4.14-era table with the names stored
     * uncompressed (OpenWrt's KALLSYMS_UNCOMPRESSED patch: no token table), code-like bytes
     * before it and pointers to its symbols after it, linked at 0x80060000.
     */
    public static byte[] openwrtMips32(int symbols) {
        SyntheticKallsyms k = new SyntheticKallsyms();
        k.era = SyntheticKallsyms.Era.V4_6;
        k.bits = 32;
        k.order = ByteOrder.BIG_ENDIAN;
        k.uncompressed = true;
        SyntheticKallsyms.Built built = k.build(SyntheticKallsyms.symbols(18, symbols, 0x80060000L, false, false));
        return SyntheticImage.raw(built, k, 7, 2000).bytes;
    }

    private static byte[] image(SyntheticKallsyms.Era era, int bits, ByteOrder order, int symbols, long text) {
        SyntheticKallsyms k = new SyntheticKallsyms();
        k.era = era;
        k.bits = bits;
        k.order = order;
        SyntheticKallsyms.Built built = k.build(SyntheticKallsyms.symbols(11, symbols, text, false, false));
        // small once compressed, so that the fuzzer runs fast: 64 KiB (what the unwrapper takes for a kernel) of code-like bytes, the table, a page of zeros
        byte[] table = built.bytes();
        // then pointers at the functions (one per two), as a kernel's operation tables hold
        java.util.List<Long> functions = new java.util.ArrayList<>();
        for (SyntheticKallsyms.Symbol s : built.symbols()) if (s.type() == 'T' || s.type() == 't') functions.add(s.address());
        int ptr = bits / 8;
        int data = (PREFIX + table.length + 4095) & ~4095;
        byte[] img = new byte[data + functions.size() / 2 * ptr + 4096];
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(img).order(order);
        Random p = new Random(17);
        for (int i = 0; i < functions.size() / 2; i++) {
            long target = functions.get(p.nextInt(functions.size()));
            if (ptr == 8) bb.putLong(data + i * 8, target); else bb.putInt(data + i * 4, (int) target);
        }
        Random r = new Random(13);
        for (int i = 0; i < PREFIX; i += 4) {
            img[i] = (byte) r.nextInt(8);
            img[i + 3] = (byte) 0x94;
        }
        System.arraycopy(table, 0, img, PREFIX, table.length);
        return img;
    }
}
