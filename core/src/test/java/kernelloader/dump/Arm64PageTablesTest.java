package kernelloader.dump;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

/**
 * The walk on tables written by hand in the Arm ARM's VMSAv8-64 format (4 KiB granule): the
 * indexes of each level worked out from the address by hand, table, block and page
 * descriptors, an invalid entry, a user-half address, and FEAT_LPA2's 52-bit walk with its level
 * -1 and output bits [51:50] in descriptor bits [9:8]. The walk on a real guest's tables is
 * ModulesInTheGuestTest's (every arm64 module byte and symbol read through it).
 */
class Arm64PageTablesTest {
    /** 1 MiB of "physical memory" from 0. */
    private final ByteBuffer ram = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);

    private Arm64PageTables.Physical memory() {
        return (pa, n) -> {
            if (pa < 0 || pa + n > ram.capacity()) return null;
            byte[] b = new byte[n];
            ram.get((int) pa, b);
            return b;
        };
    }

    private void entry(long table, int index, long desc) {
        ram.putLong((int) (table + index * 8L), desc);
    }

    @Test
    void fourLevelsOf48Bits() throws Exception {
        // 0xffff800012345678: bits [47:39] = 0x100, [38:30] = 0, [29:21] = 0x091, [20:12] = 0x145, offset 0x678
        long va = 0xffff800012345678L;
        entry(0x1000, 0x100, 0x2000 | 3);      // L0 -> table at 0x2000
        entry(0x2000, 0x000, 0x3000 | 3);      // L1 -> table at 0x3000
        entry(0x3000, 0x091, 0x4000 | 3);      // L2 -> table at 0x4000
        entry(0x4000, 0x145, 0x7b000 | 0x703); // L3 page at 0x7b000 (attribute bits set, AF and SH)
        Arm64PageTables t = Arm64PageTables.of(memory(), 0x1000, 16);
        assertEquals(48, t.vaBits());
        assertEquals(4, t.levels());
        assertEquals(0x7b678L, t.physical(va));
        // a 2 MiB block at level 2: 0xffff800012400000 + 0x1234 -> 0x200000 + 0x1234
        entry(0x3000, 0x092, 0x200000 | 1);
        assertEquals(0x201234L, t.physical(0xffff800012401234L));
        // an invalid entry, a user address (TTBR0's half), a page descriptor with bit 1 clear
        assertNull(t.physical(0xffff800012600000L));
        assertNull(t.physical(0x0000800012345678L));
        entry(0x4000, 0x146, 0x7c000 | 1);
        assertNull(t.physical(0xffff800012346000L));
        // reads across a page boundary, page by page
        entry(0x4000, 0x146, 0x7d000 | 3);
        ram.put(0x7bfff, (byte) 0xaa);
        ram.put(0x7d000, (byte) 0xbb);
        assertArrayEquals(new byte[] {(byte) 0xaa, (byte) 0xbb}, t.read(0xffff800012345fffL, 2));
    }

    @Test
    void fiveLevelsOf52BitsWithLpa2() throws Exception {
        // 0xfff0000000001000: bits [51:48] = 0 (level -1, 16 entries), [47:39] = 0, ..., [20:12] = 1
        long va = 0xfff0000000001000L;
        entry(0x1000, 0, 0x2000 | 3);
        entry(0x2000, 0, 0x3000 | 3);
        entry(0x3000, 0, 0x4000 | 3);
        entry(0x4000, 0, 0x5000 | 3);
        entry(0x5000, 1, 0x6000 | 3 | (1L << 8));   // output address bit 50 from descriptor bit 8
        Arm64PageTables t = Arm64PageTables.of(memory(), 0x1000, 12);
        assertEquals(5, t.levels());
        assertEquals((1L << 50) | 0x6000L, t.physical(va + 0));
        // the top index takes bits [51:48]: 0xfff1... is entry 1 of level -1, not mapped here
        assertNull(t.physical(0xfff1000000001000L));
    }
}
