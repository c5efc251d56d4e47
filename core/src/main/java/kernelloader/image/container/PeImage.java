package kernelloader.image.container;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/**
 * PE/COFF images: EFI-stub kernels (x86 bzImage, arm64 and RISC-V Image carry a PE header),
 * their Authenticode signature (Debian sid signs them), and EFI zboot images (6.1+), whose
 * MS-DOS header says "zimg" and where the compressed Image lies.
 */
public final class PeImage implements Container {
    @Override
    public Peeled peel(ByteView v, int offset) throws KernelFormatException {
        if (!Headers.magic(v, offset, "MZ") || !v.fits(offset, 0x40)) return null;
        long pe = offset + v.u32(offset + 0x3c);
        if (!v.fits(pe, 24) || !Headers.magic(v, (int) pe, "PE\0\0")) return null;
        int machine = v.u16((int) pe + 4);
        int optMagic = v.fits(pe + 24, 2) ? v.u16((int) pe + 24) : 0;
        int dirs = (int) pe + 24 + (optMagic == 0x20b ? 112 : 96);
        String signature = null;
        if (v.fits(dirs + 4 * 8, 8)) {
            long certOff = v.u32(dirs + 4 * 8), certSize = v.u32(dirs + 4 * 8 + 4);
            if (certSize > 0 && v.fits(certOff, certSize)) signature = certSize + "-byte Authenticode certificate at " + Headers.hex(certOff);
        }
        var fields = Peeled.map("machine", Headers.hex(machine), "signed", signature);
        if (Headers.magic(v, offset + 4, "zimg")) {
            long payload = offset + v.u32(offset + 8), size = v.u32(offset + 12);
            fields.put("compression", Headers.cString(v, offset + 0x18, 32));
            Headers.within(v, "EFI zboot payload", payload, size);
            return Peeled.wrapping("EFI zboot", offset, fields, (int) payload, (int) size).withArch(archOf(machine));
        }
        return Peeled.header("PE", offset, fields).withArch(archOf(machine));
    }

    /** The architecture a PE machine field names (IMAGE_FILE_MACHINE_*), or null. */
    static String archOf(int machine) {
        return switch (machine) {
            case 0x14c -> "X86";
            case 0x8664 -> "X86_64";
            case 0x1c0, 0x1c2, 0x1c4 -> "ARM";
            case 0xaa64 -> "AARCH64";
            case 0x5032, 0x5064 -> "RISCV";
            case 0x6232, 0x6264 -> "LOONGARCH";
            default -> null;
        };
    }

    /** The PE machine field at {@code offset}, or -1 when there is no PE header there. */
    public static int machine(ByteView v, int offset) {
        if (!Headers.magic(v, offset, "MZ") || !v.fits(offset, 0x40)) return -1;
        long pe = offset + v.u32(offset + 0x3c);
        if (!v.fits(pe, 6) || !Headers.magic(v, (int) pe, "PE\0\0")) return -1;
        return v.u16((int) pe + 4);
    }
}
