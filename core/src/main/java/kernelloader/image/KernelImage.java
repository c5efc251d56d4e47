package kernelloader.image;

import java.util.List;

/**
 * The bytes of one candidate kernel image after peeling, with how they were reached.
 * {@code data} may be longer than {@code length} (decoder buffers are not trimmed: no copy).
 *
 * @param elf the ELF header when these bytes are an ELF file (a vmlinux), else null
 */
public record KernelImage(byte[] data, int length, List<Layer> layers, ElfHeader elf) {

    /** The peeled layers as users read them, outermost first: "bzImage → zstd → ELF". */
    public String describeLayers() {
        if (layers.isEmpty()) return "raw";
        StringBuilder sb = new StringBuilder();
        for (Layer l : layers) {
            if (sb.length() > 0) sb.append(" \u2192 ");
            sb.append(l.kind());
        }
        return sb.toString();
    }

    /** The virtual address of a file offset when the image itself says it (ELF), else -1. */
    public long addressOfOffset(long offset) {
        return elf == null ? -1 : elf.fileOffsetToAddress(offset);
    }
}
