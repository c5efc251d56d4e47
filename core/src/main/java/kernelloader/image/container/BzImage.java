package kernelloader.image.container;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/**
 * x86 bzImage: the real-mode setup header (Documentation/arch/x86/boot.rst) with "HdrS" at
 * 0x202; from boot protocol 2.08 it points at the compressed payload (a compressed ELF vmlinux).
 */
public final class BzImage implements Container {
    @Override
    public Peeled peel(ByteView v, int offset) throws KernelFormatException {
        if (!Headers.magic(v, offset + 0x202, "HdrS") || !v.fits(offset, 0x250)) return null;
        int setupSects = v.u8(offset + 0x1f1);
        if (setupSects == 0) setupSects = 4;
        int protocol = v.u16(offset + 0x206);
        String version = null;
        int verPtr = v.u16(offset + 0x20e);
        if (verPtr != 0) version = Headers.cString(v, offset + verPtr + 0x200, 160);
        var fields = Peeled.map("boot protocol", (protocol >> 8) + "." + String.format("%02d", protocol & 0xff),
                "setup sectors", setupSects, "version", version == null ? null : '"' + version + '"');
        if (protocol < 0x208) return Peeled.header("bzImage", offset, fields).withArch("X86");
        long payload = offset + (setupSects + 1L) * 512 + v.u32(offset + 0x248);
        long length = v.u32(offset + 0x24c);
        Headers.within(v, "bzImage payload", payload, length);
        return Peeled.wrapping("bzImage", offset, fields, (int) payload, (int) length).withArch("X86");
    }
}
