package kernelloader.image.container;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/** "UNCOMPRESSED_IMG" wrapper (some Samsung/MediaTek boot images): magic, u32 size, kernel. */
public final class UncompressedImg implements Container {
    @Override
    public Peeled peel(ByteView v, int offset) throws KernelFormatException {
        if (!Headers.magic(v, offset, "UNCOMPRESSED_IMG") || !v.fits(offset, 0x14)) return null;
        long size = v.u32(offset + 0x10);
        long avail = v.length() - (offset + 0x14L);
        if (size == 0 || size > avail) size = avail;   // the size field is not always filled in
        return Peeled.wrapping("UNCOMPRESSED_IMG", offset, Peeled.map("size", size), offset + 0x14, (int) size);
    }
}
