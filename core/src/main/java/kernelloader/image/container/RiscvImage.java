package kernelloader.image.container;

import kernelloader.image.ByteView;

/** RISC-V Image header (Documentation/arch/riscv/boot-image-header.rst): "RSC\x05" at 0x38. */
public final class RiscvImage implements Container {
    @Override
    public Peeled peel(ByteView v, int offset) {
        if (!Headers.magic(v, offset + 0x38, "RSC\u0005") || !v.fits(offset, 0x40)) return null;
        long version = v.u32(offset + 32);
        return Peeled.header("RISC-V Image", offset, Peeled.map(
                "text_offset", Headers.hex(v.u64(offset + 8)), "image_size", Headers.hex(v.u64(offset + 16)),
                "header version", (version >> 16) + "." + (version & 0xffff))).withArch("RISCV");
    }
}
