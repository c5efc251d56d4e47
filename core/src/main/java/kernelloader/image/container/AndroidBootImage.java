package kernelloader.image.container;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/**
 * Android boot image (AOSP system/tools/mkbootimg, include/bootimg/bootimg.h). Header versions
 * 0-2 share one layout (page-sized header, kernel at one page); versions 3 and 4 another (fixed
 * 4096-byte pages, fields reordered). header_version is at offset 40 in both.
 */
public final class AndroidBootImage implements Container {
    static final String MAGIC = "ANDROID!";

    @Override
    public Peeled peel(ByteView v, int offset) throws KernelFormatException {
        if (!Headers.magic(v, offset, MAGIC)) return null;
        Headers.within(v, "boot.img header", offset, 1584);
        int version = v.s32(offset + 40);
        long kernelSize, pageSize;
        String cmdline, osVersion;
        if (version >= 0 && version <= 2) {
            kernelSize = v.u32(offset + 8);
            pageSize = v.u32(offset + 36);
            osVersion = osVersion(v.u32(offset + 44));
            cmdline = Headers.cString(v, offset + 64, 512) + Headers.cString(v, offset + 608, 1024);
        } else if (version == 3 || version == 4) {
            kernelSize = v.u32(offset + 8);
            pageSize = 4096;
            osVersion = osVersion(v.u32(offset + 16));
            cmdline = Headers.cString(v, offset + 44, 1536);
        } else {
            throw new KernelFormatException("boot.img at 0x" + Integer.toHexString(offset)
                    + ": unknown header version " + Integer.toUnsignedString(version) + " (known: 0-4)");
        }
        if (pageSize < 1024 || pageSize > (1 << 20) || Long.bitCount(pageSize) != 1) {
            throw new KernelFormatException("boot.img at 0x" + Integer.toHexString(offset) + ": page size "
                    + pageSize + " is not a power of two between 1 KiB and 1 MiB");
        }
        Headers.within(v, "boot.img kernel", offset + pageSize, kernelSize);
        if (kernelSize == 0) {
            throw new KernelFormatException("boot.img at 0x" + Integer.toHexString(offset) + ": kernel size is 0 (no kernel in this image)");
        }
        return Peeled.wrapping("boot.img v" + version, offset,
                Peeled.map("page size", pageSize, "kernel size", kernelSize, "os version", osVersion,
                        "cmdline", '"' + cmdline + '"'),
                (int) (offset + pageSize), (int) kernelSize);
    }

    /** os_version packs A.B.C (7 bits each) and the patch level (year-2000, month). */
    static String osVersion(long v) {
        if (v == 0) return null;
        long a = v >>> 25, b = (v >>> 18) & 0x7f, c = (v >>> 11) & 0x7f, y = 2000 + ((v >>> 4) & 0x7f), m = v & 0xf;
        return a + "." + b + "." + c + " (patch level " + y + "-" + (m < 10 ? "0" : "") + m + ")";
    }
}
