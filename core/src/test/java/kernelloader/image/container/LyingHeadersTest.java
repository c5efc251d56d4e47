package kernelloader.image.container;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/**
 * Container headers whose fields lie: each ends as one sentence naming the field, in the
 * search's account of what it tried, and the search goes on (no exception leaves it).
 */
class LyingHeadersTest {
    private static final int SIZE = 256 * 1024;

    private static String why(byte[] file) throws Exception {
        Kernel k = Kernel.read("lying", file, file.length, KernelOptions.DEFAULT);
        assertFalse(k.kallsyms().present());
        return k.kallsyms().why();
    }

    /** A device tree header (big-endian): magic, totalsize, off_dt_struct, off_dt_strings, then zeros. */
    private static ByteBuffer fdt(long total, long struct, long strings) {
        byte[] b = new byte[SIZE];
        new Random(5).nextBytes(b);
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.putInt(0, 0xd00dfeed).putInt(4, (int) total).putInt(8, (int) struct).putInt(12, (int) strings);
        for (int i = 16; i < 40; i++) bb.put(i, (byte) 0);
        return bb;
    }

    @Test
    void aFitWhoseStructOffsetWrapsIsNamed() throws Exception {
        String why = why(fdt(0x1000, 0xfffffff0L, 0x800).array());
        assertTrue(why.contains("FIT: off_dt_struct 0xfffffff0 lies outside the tree (totalsize 0x1000)"), why);
    }

    @Test
    void aFitPropertyNamePastTheStringsIsNamed() throws Exception {
        ByteBuffer bb = fdt(0x1000, 0x40, 0x800);
        bb.putInt(0x40, 1).putInt(0x44, 0);                            // BEGIN_NODE ""
        bb.putInt(0x48, 3).putInt(0x4c, 4).putInt(0x50, 0x7fff0000);   // PROP len 4, nameoff far away
        String why = why(bb.array());
        assertTrue(why.contains("FIT: a property's nameoff 0x7fff0000 at 0x4c lies past the strings block"), why);
    }

    @Test
    void aMultiFileUImageWhoseFirstSizeRunsPastTheEndIsNamed() throws Exception {
        byte[] b = new byte[SIZE];
        new Random(6).nextBytes(b);
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.putInt(0, 0x27051956).putInt(12, 0x100);
        bb.put(30, (byte) 4).put(31, (byte) 0);                  // IH_TYPE_MULTI, no compression
        bb.put(32, "lying".getBytes(StandardCharsets.US_ASCII));
        bb.putInt(64, 0x7fffffff).putInt(68, 0);                 // sizes: one file of 2 GiB, then the end
        String why = why(b);
        assertTrue(why.contains("uImage multi-file image's first file (the size list's first entry, 2147483647 bytes)"), why);
    }
}
