package kernelloader.image;

/** One ELF program header (segment). */
public record ElfProgramHeader(int type, long flags, long offset, long vaddr, long paddr,
                               long fileSize, long memSize, long align) {

    static ElfProgramHeader read(ByteView v, int pos, int bits) {
        if (bits == 64) {
            return new ElfProgramHeader(v.s32(pos), v.u32(pos + 4), v.u64(pos + 8), v.u64(pos + 16),
                    v.u64(pos + 24), v.u64(pos + 32), v.u64(pos + 40), v.u64(pos + 48));
        }
        return new ElfProgramHeader(v.s32(pos), v.u32(pos + 24), v.u32(pos + 4), v.u32(pos + 8),
                v.u32(pos + 12), v.u32(pos + 16), v.u32(pos + 20), v.u32(pos + 28));
    }
}
