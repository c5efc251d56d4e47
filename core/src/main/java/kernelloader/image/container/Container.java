package kernelloader.image.container;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/**
 * One on-disk format that wraps or heads a kernel (Android boot image, uImage, bzImage, ...).
 * Each format reads only its own header; the unwrapper decides what to do with the payload.
 */
public interface Container {
    /**
     * The container starting at {@code offset} of {@code v} (read little-endian; formats with
     * another byte order switch themselves), or null if there is none of this format.
     *
     * @throws KernelFormatException when the magic matches but the header lies (sizes or
     *                               offsets past the end, a zero page size, ...)
     */
    Peeled peel(ByteView v, int offset) throws KernelFormatException;
}
