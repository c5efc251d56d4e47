package kernelloader.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Test;

import kernelloader.image.KernelImage;

/** LiME's range headers (lime.h: magic, version 1, first and last address inclusive, 8 reserved bytes). */
class PhysicalMemoryTest {
    static byte[] lime(long[][] ranges, byte fill) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long[] r : ranges) {
            ByteBuffer h = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(0x4C694D45).putInt(1).putLong(r[0]).putLong(r[1]).putLong(0);
            out.writeBytes(h.array());
            byte[] d = new byte[(int) (r[1] - r[0] + 1)];
            java.util.Arrays.fill(d, fill);
            d[0] = (byte) (r[0] >>> 16);
            out.writeBytes(d);
        }
        return out.toByteArray();
    }

    @Test
    void rangesLaidOutByPhysicalAddress() {
        // a PC's System RAM as /proc/iomem lists it: from 0x1000 below 640 KiB, then from 1 MiB
        byte[] f = lime(new long[][] {{0x1000, 0x9efff}, {0x100000, 0x2fffff}}, (byte) 7);
        assertTrue(PhysicalMemory.isLime(f, f.length));
        PhysicalMemory m = PhysicalMemory.ofLime(f, f.length);
        assertEquals("LiME", m.kind());
        assertTrue(m.laidOut());
        assertEquals(0x1000, m.start());
        assertEquals(2, m.segments().size());
        KernelImage img = m.image(f, f.length, List.of());
        assertEquals(0x300000 - 0x1000, img.length());
        assertEquals(0x10, img.data()[0x100000 - 0x1000], "the second range at its physical address");
        assertEquals(0, img.data()[0x9f000 - 0x1000 + 5], "the hole is zeros");
        assertEquals(32 + 0x9e000 + 32, m.fileOffsetOf(0x100000));
        assertEquals(-1, m.fileOffsetOf(0xa0000));
        assertEquals("LiME", img.layers().get(0).kind());
    }

    @Test
    void aRangePastTheEndAndHeadersThatLie() {
        byte[] f = lime(new long[][] {{0, 0xffff}, {0x10000, 0x1ffff}}, (byte) 1);
        byte[] cut = java.util.Arrays.copyOf(f, f.length - 0x8000);
        PhysicalMemory m = PhysicalMemory.ofLime(cut, cut.length);
        assertEquals(2, m.segments().size());
        assertEquals(0x8000, m.segments().get(1).size(), "the truncated range keeps what the file has");
        // a second header that is not one: the ranges stop there
        byte[] bad = f.clone();
        bad[32 + 0x10000] = 0;
        assertEquals(1, PhysicalMemory.ofLime(bad, bad.length).segments().size());
        // not LiME at all, and a version this reader does not know
        assertFalse(PhysicalMemory.isLime(new byte[64], 64));
        byte[] v2 = f.clone();
        v2[4] = 2;
        assertNull(PhysicalMemory.ofLime(v2, v2.length));
        // a last address before the first
        ByteBuffer h = ByteBuffer.wrap(f.clone()).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(8, 0x5000).putLong(16, 0x4000);
        assertNull(PhysicalMemory.ofLime(h.array(), h.array().length));
    }

    @Test
    void rangesFarApartAreSearchedAsTheyLie() {
        // 64 KiB at 0 and 64 KiB at 1 GiB: laying out would be almost all holes
        byte[] f = lime(new long[][] {{0, 0xffff}, {1L << 30, (1L << 30) + 0xffff}}, (byte) 3);
        PhysicalMemory m = PhysicalMemory.ofLime(f, f.length);
        assertFalse(m.laidOut());
        assertEquals(f.length, m.image(f, f.length, List.of()).length());
    }
}
