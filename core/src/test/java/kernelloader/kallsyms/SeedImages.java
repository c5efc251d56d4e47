package kernelloader.kallsyms;

import java.nio.ByteOrder;

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

    private static byte[] image(SyntheticKallsyms.Era era, int bits, ByteOrder order, int symbols, long text) {
        SyntheticKallsyms k = new SyntheticKallsyms();
        k.era = era;
        k.bits = bits;
        k.order = order;
        SyntheticKallsyms.Built built = k.build(SyntheticKallsyms.symbols(11, symbols, text, false, false));
        // small once compressed, so that the fuzzer runs fast: 64 KiB (what the unwrapper takes for a kernel) of code-like bytes, the table, a page of zeros
        byte[] table = built.bytes();
        byte[] img = new byte[PREFIX + table.length + 4096];
        java.util.Random r = new java.util.Random(13);
        for (int i = 0; i < PREFIX; i += 4) {
            img[i] = (byte) r.nextInt(8);
            img[i + 3] = (byte) 0x94;
        }
        System.arraycopy(table, 0, img, PREFIX, table.length);
        return img;
    }
}
