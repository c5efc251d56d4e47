package kernelloader.image.container;

import java.nio.ByteOrder;

import kernelloader.image.ByteView;

/**
 * ARM zImage (arch/arm/boot/compressed/head.S): magic 0x016f2818 at 0x24, then the start and
 * end of the image; a device tree may be appended after the end. The compressed kernel sits
 * inside the decompressor, where the stream scan finds it.
 */
public final class ArmZImage implements Container {
    @Override
    public Peeled peel(ByteView le, int offset) {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            ByteView v = new ByteView(le.array(), le.length(), order);
            if (!v.fits(offset, 0x34) || v.u32(offset + 0x24) != 0x016f2818L) continue;
            long start = v.u32(offset + 0x28), end = v.u32(offset + 0x2c);
            long size = end - start;
            String dtb = null;
            if (size > 0 && v.fits(offset + size, 8)) {
                ByteView be = new ByteView(le.array(), le.length(), ByteOrder.BIG_ENDIAN);
                if (be.u32((int) (offset + size)) == 0xd00dfeedL) dtb = be.u32((int) (offset + size) + 4) + " bytes";
            }
            return Peeled.header("zImage", offset, Peeled.map("byte order", order == ByteOrder.LITTLE_ENDIAN ? "little" : "big",
                    "size", size, "appended dtb", dtb)).withArch("ARM");
        }
        return null;
    }
}
