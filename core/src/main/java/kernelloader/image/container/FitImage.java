package kernelloader.image.container;

import java.nio.ByteOrder;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/**
 * U-Boot FIT image: a flattened device tree whose /images/<name> node of type "kernel" holds
 * the kernel in its "data" property (or, with mkimage -E, at "data-offset"/"data-position"
 * outside the tree).
 */
public final class FitImage implements Container {
    private static final long FDT_MAGIC = 0xd00dfeedL;
    private static final int BEGIN_NODE = 1, END_NODE = 2, PROP = 3, NOP = 4, END = 9;

    @Override
    public Peeled peel(ByteView le, int offset) throws KernelFormatException {
        ByteView v = new ByteView(le.array(), le.length(), ByteOrder.BIG_ENDIAN);
        if (!v.fits(offset, 40) || v.u32(offset) != FDT_MAGIC) return null;
        long total = v.u32(offset + 4), structOff = v.u32(offset + 8), stringsOff = v.u32(offset + 12);
        Headers.within(v, "FIT device tree", offset, total);
        // each offset is checked against the tree's own size: a lying one is named, never followed
        if (structOff < 40 || structOff >= total) {
            throw new KernelFormatException("FIT: off_dt_struct 0x" + Long.toHexString(structOff) + " lies outside the tree (totalsize 0x"
                    + Long.toHexString(total) + ")");
        }
        if (stringsOff >= total) {
            throw new KernelFormatException("FIT: off_dt_strings 0x" + Long.toHexString(stringsOff) + " lies outside the tree (totalsize 0x"
                    + Long.toHexString(total) + ")");
        }
        int p = (int) (offset + structOff);
        int end = (int) (offset + total);
        int depth = 0;
        boolean inImages = false, isKernel = false;
        int imagesDepth = -1;
        String node = null, compression = null;
        int data = -1, dataLen = 0;
        long extOffset = -1, extSize = -1;
        for (int steps = 0; p + 4 <= end && steps < 1_000_000; steps++) {
            int token = v.s32(p);
            p += 4;
            if (token == BEGIN_NODE) {
                String name = Headers.cString(v, p, 256);
                p += (name.length() + 1 + 3) & ~3;
                depth++;
                if (depth == 2 && name.equals("images")) {
                    inImages = true;
                    imagesDepth = depth;
                } else if (inImages && depth == imagesDepth + 1) {
                    node = name;
                    isKernel = false;
                    compression = null;
                    data = -1;
                    extOffset = extSize = -1;
                }
            } else if (token == END_NODE) {
                if (inImages && depth == imagesDepth + 1 && isKernel) {
                    if (data < 0 && extOffset >= 0) {
                        // external data sits after the tree, offset counted from its end (aligned to 4)
                        long at = offset + ((total + 3) & ~3) + extOffset;
                        Headers.within(v, "FIT kernel data (data-offset 0x" + Long.toHexString(extOffset) + ", data-size " + extSize + ")",
                                at, extSize);
                        data = (int) at;
                        dataLen = (int) extSize;
                    }
                    if (data >= 0) {
                        Headers.within(v, "FIT kernel data", data, dataLen);
                        return Peeled.wrapping("FIT", offset, Peeled.map("image", node, "compression", compression), data, dataLen);
                    }
                }
                if (inImages && depth == imagesDepth) inImages = false;
                depth--;
            } else if (token == PROP) {
                if (p + 8 > end) throw new KernelFormatException("FIT: a property header at 0x" + Integer.toHexString(p) + " runs past the tree");
                long len = v.u32(p), nameOff = v.u32(p + 4);
                p += 8;
                if (p + len > end) throw new KernelFormatException("FIT: a property's len 0x" + Long.toHexString(len) + " at 0x"
                        + Integer.toHexString(p - 8) + " runs past the tree");
                if (stringsOff + nameOff >= total) {
                    throw new KernelFormatException("FIT: a property's nameoff 0x" + Long.toHexString(nameOff) + " at 0x"
                            + Integer.toHexString(p - 8) + " lies past the strings block (off_dt_strings 0x" + Long.toHexString(stringsOff)
                            + ", totalsize 0x" + Long.toHexString(total) + ")");
                }
                String prop = Headers.cString(v, (int) (offset + stringsOff + nameOff), 64);
                if (inImages && depth == imagesDepth + 1) {
                    switch (prop) {
                        case "type" -> isKernel = Headers.cString(v, p, (int) len).startsWith("kernel");
                        case "compression" -> compression = Headers.cString(v, p, (int) len);
                        case "data" -> { data = p; dataLen = (int) len; }
                        case "data-offset" -> extOffset = len < 4 ? -1 : v.u32(p);
                        case "data-position" -> extOffset = len < 4 ? -1 : v.u32(p) - ((total + 3) & ~3);
                        case "data-size" -> extSize = len < 4 ? -1 : v.u32(p);
                        default -> { }
                    }
                }
                p += (len + 3) & ~3;
            } else if (token == NOP) {
                continue;
            } else if (token == END) {
                break;
            } else {
                throw new KernelFormatException("FIT: bad device-tree token " + token + " at 0x" + Integer.toHexString(p - 4));
            }
        }
        return null;   // a device tree without a kernel image: an appended DTB, not a FIT
    }
}
