package kernelloader.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import kernelloader.image.ElfHeader;

/**
 * VMCOREINFO as kernels write it (lines in the forms of kernel/vmcore_info.c and the x86-64 and
 * arm64 additions, as a Debian 6.12 guest wrote them), found in memory and in an ELF core's note.
 */
class VmcoreInfoTest {
    static final String TEXT = "OSRELEASE=6.12.117+deb13-amd64\nBUILD-ID=b1d7a9114053a488ef493f85f85e9fc75ba9f632\nPAGESIZE=4096\n"
            + "SYMBOL(init_uts_ns)=ffffffffade1f4c0\nOFFSET(uts_namespace.name)=0\nSYMBOL(_stext)=ffffffffac000000\n"
            + "NUMBER(VMALLOC_START)=0xff53e991c0000000\nNUMBER(phys_base)=-316669952\nKERNELOFFSET=2b000000\n"
            + "NUMBER(KERNEL_IMAGE_SIZE)=1073741824\n";

    @Test
    void readsTheKernelsLines() {
        VmcoreInfo v = VmcoreInfo.parse(TEXT, "test");
        assertNotNull(v);
        assertEquals("6.12.117+deb13-amd64", v.release());
        assertEquals(0x2b000000L, v.kernelOffset());
        assertEquals(0xffffffffac000000L, v.symbol("_stext"));
        assertEquals(-316669952L, v.number("phys_base"));
        assertEquals(0xff53e991c0000000L, v.number("VMALLOC_START"));
        assertNull(v.symbol("init_task"));
    }

    @Test
    void theFormatStringsInRodataAreNotOne() {
        // the kernel's own rodata holds "OSRELEASE=%s\n" and the other formats: no VMCOREINFO
        byte[] mem = new byte[8192];
        byte[] fmt = "OSRELEASE=%s\n\0PAGESIZE=%ld\n\0KERNELOFFSET=%lx\n\0".getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(fmt, 0, mem, 100, fmt.length);
        assertNull(VmcoreInfo.inMemory(mem, mem.length, null));
        byte[] real = (TEXT + "\0").getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(real, 0, mem, 4096, real.length);
        VmcoreInfo v = VmcoreInfo.inMemory(mem, mem.length, "6.12.117+deb13-amd64");
        assertNotNull(v);
        assertEquals(0x2b000000L, v.kernelOffset());
        // another release's is not this kernel's
        assertNull(VmcoreInfo.inMemory(mem, mem.length, "6.1.0-9-amd64"));
    }

    /** kdump's /proc/vmcore: an ELF core whose PT_NOTE holds a note named VMCOREINFO. */
    @Test
    void aNoteOfAnElfCore() throws Exception {
        byte[] desc = TEXT.getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        // a CORE note first (prstatus), then VMCOREINFO, as kexec-tools writes them
        note(notes, "CORE", 1, new byte[336]);
        note(notes, "VMCOREINFO", 0, desc);
        byte[] n = notes.toByteArray();
        ByteBuffer b = ByteBuffer.allocate(64 + 56 + n.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}).put(new byte[8]);
        b.putShort((short) 4).putShort((short) 62).putInt(1).putLong(0).putLong(64).putLong(0).putInt(0)
                .putShort((short) 64).putShort((short) 56).putShort((short) 1).putShort((short) 0).putShort((short) 0).putShort((short) 0);
        b.putInt(4).putInt(0).putLong(120).putLong(0).putLong(0).putLong(n.length).putLong(n.length).putLong(0);
        b.put(n);
        byte[] core = b.array();
        ElfHeader elf = ElfHeader.parse(core, core.length);
        VmcoreInfo v = VmcoreInfo.inNotes(elf, core, core.length);
        assertNotNull(v);
        assertEquals("the ELF core's VMCOREINFO note", v.where());
        assertEquals(0x2b000000L, v.kernelOffset());
    }

    private static void note(ByteArrayOutputStream out, String name, int type, byte[] desc) {
        byte[] nm = (name + "\0").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(nm.length).putInt(desc.length).putInt(type);
        out.writeBytes(h.array());
        out.writeBytes(nm);
        out.writeBytes(new byte[(4 - nm.length % 4) % 4]);
        out.writeBytes(desc);
        out.writeBytes(new byte[(4 - desc.length % 4) % 4]);
    }
}
