package kernelloader.image.container;

import java.nio.ByteOrder;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/** U-Boot legacy image: a 64-byte big-endian header (include/image.h), then the payload. */
public final class UImage implements Container {
    static final long MAGIC = 0x27051956L;
    private static final String[] COMPRESSION = {"none", "gzip", "bzip2", "lzma", "lzo", "lz4", "zstd"};

    /** The architecture of a uImage arch byte (IH_ARCH_* in U-Boot's include/image.h), or null. */
    static String archOf(int ih) {
        return switch (ih) {
            case 2 -> "ARM";
            case 3 -> "X86";
            case 5, 6 -> "MIPS";
            case 7 -> "POWERPC";
            case 8 -> "S390X";
            case 9 -> "SUPERH";
            case 10, 11 -> "SPARC";
            case 22 -> "AARCH64";
            case 24 -> "X86_64";
            case 26 -> "RISCV";
            default -> null;
        };
    }

    @Override
    public Peeled peel(ByteView le, int offset) throws KernelFormatException {
        ByteView v = new ByteView(le.array(), le.length(), ByteOrder.BIG_ENDIAN);
        if (!v.fits(offset, 64) || v.u32(offset) != MAGIC) return null;
        long size = v.u32(offset + 12);
        int type = v.u8(offset + 30), comp = v.u8(offset + 31);
        int payload = offset + 64;
        long length = size;
        if (type == 4) {
            // multi-file image: a zero-terminated list of u32 sizes, the kernel first
            int p = payload;
            while (v.fits(p, 4) && v.u32(p) != 0 && p - payload < 4 * 64) p += 4;
            if (!v.fits(payload, 4)) throw new KernelFormatException("uImage: a multi-file image whose size list runs past the end of the file");
            length = v.u32(payload);
            payload = p + 4;
            Headers.within(v, "uImage multi-file image's first file (the size list's first entry, " + length + " bytes)", payload, length);
        }
        Headers.within(v, "uImage payload", payload, length);
        return Peeled.wrapping("uImage", offset,
                Peeled.map("name", '"' + Headers.cString(v, offset + 32, 32) + '"',
                        "load", Headers.hex(v.u32(offset + 16)), "entry", Headers.hex(v.u32(offset + 20)),
                        "arch", v.u8(offset + 29), "type", type,
                        "compression", comp < COMPRESSION.length ? COMPRESSION[comp] : String.valueOf(comp)),
                payload, (int) length).withArch(archOf(v.u8(offset + 29)));
    }
}
