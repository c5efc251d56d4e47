package kernelloader.image;

/**
 * One wrapping peeled off on the way to the kernel: a container or a compressed stream.
 *
 * @param kind        short name shown to users ("gzip", "ELF", "bzImage", ...)
 * @param offset      where the layer starts in its parent's bytes
 * @param length      how many bytes of the parent it occupies (-1 when unknown, e.g. a stream
 *                    whose end only the decoder knows)
 * @param detail      human-readable facts about the layer (header fields, warnings), may be empty
 * @param arch        the architecture the header states (an {@code Architecture} name), or null
 */
public record Layer(String kind, long offset, long length, String detail, String arch) {
    public Layer(String kind, long offset, long length, String detail) {
        this(kind, offset, length, detail, null);
    }

    @Override
    public String toString() {
        return kind + "@0x" + Long.toHexString(offset) + (detail.isEmpty() ? "" : " (" + detail + ")");
    }
}
