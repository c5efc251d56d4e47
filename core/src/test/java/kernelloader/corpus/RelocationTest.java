package kernelloader.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.layout.KernelLayout;
import kernelloader.reloc.Relocations;

/**
 * Relocatable kernels whose data pointers are only filled in at boot: after applying the RELA
 * table, sys_call_table[0] holds the address of the first system call, as in the -dbg vmlinux.
 */
@Tag("corpus")
class RelocationTest {
    private static long firstSyscallAfterRelocation(String id, String expectedSymbol) throws Exception {
        Corpus.Kernel k = Corpus.kernel(id);
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        KernelLayout layout = m.layout().get();
        Map<String, Long> nm = k.firstAddresses();
        long table = layout.fileOffsetOf(nm.get("sys_call_table"));
        ByteOrder order = k.bigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        long before = ByteBuffer.wrap(m.image().data()).order(order).getLong((int) table);
        Relocations applied = m.relocations().get();
        assertTrue(applied.count() > 10000, "relocations: " + applied.count());
        long after = ByteBuffer.wrap(m.relocated().data()).order(order).getLong((int) table);
        // the image as found is never written: relocated() is a copy
        assertEquals(before, ByteBuffer.wrap(m.image().data()).order(order).getLong((int) table));
        assertEquals(Long.toHexString(nm.get(expectedSymbol)), Long.toHexString(after));
        return before;
    }

    @Test
    void arm64RelaKernelGetsItsDataPointersBack() throws Exception {
        assertEquals(0, firstSyscallAfterRelocation("bookworm-arm64-arm64", "__arm64_sys_io_setup"), "0 in the Image as shipped");
    }

    @Test
    void s390xRelaLeavesLinkTimeValuesAsTheyAre() throws Exception {
        long before = firstSyscallAfterRelocation("bookworm-s390x-s390x", "__s390_sys_ni_syscall");   // s390 syscall 0 is unused
        assertTrue(before != 0);
    }

    @Test
    void arm64RelrKernelKeepsItsPointersInPlaceAndNeedsNothing() throws Exception {
        // CONFIG_RELR: the addend is the value in place, so the Image already holds the pointers
        Corpus.Kernel k = Corpus.kernel("sid-arm64-arm64");
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        KernelLayout layout = m.layout().get();
        assertFalse(m.relocations().present(), String.valueOf(m.relocations()));
        assertSame(m.image(), m.relocated(), "nothing to apply: no copy");
        Map<String, Long> nm = k.firstAddresses();
        long at = layout.fileOffsetOf(nm.get("sys_call_table"));
        long first = ByteBuffer.wrap(m.image().data()).order(ByteOrder.LITTLE_ENDIAN).getLong((int) at);
        assertEquals(Long.toHexString(nm.get("__arm64_sys_io_setup")), Long.toHexString(first));
    }
}
