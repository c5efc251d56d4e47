package kernelloader.image.container;

import kernelloader.image.ByteView;

/**
 * arm64 Image header (Documentation/arch/arm64/booting.rst): "ARM\x64" at 0x38, text_offset,
 * image_size (including bss) and flags (bit 0 big-endian, bits 1-2 page size).
 */
public final class Arm64Image implements Container {
    @Override
    public Peeled peel(ByteView v, int offset) {
        if (!Headers.magic(v, offset + 0x38, "ARM\u0064") || !v.fits(offset, 0x40)) return null;
        long flags = v.u64(offset + 24);
        String[] pages = {"unspecified", "4K", "16K", "64K"};
        return Peeled.header("arm64 Image", offset, Peeled.map(
                "text_offset", Headers.hex(v.u64(offset + 8)), "image_size", Headers.hex(v.u64(offset + 16)),
                "byte order", (flags & 1) != 0 ? "big" : "little", "page size", pages[(int) ((flags >> 1) & 3)]))
                .withArch("AARCH64");
    }
}
