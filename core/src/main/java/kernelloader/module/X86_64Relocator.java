package kernelloader.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * x86-64's module relocations, as arch/x86/kernel/module.c (__write_relocate_add) applies them:
 * the place must hold zeros (the kernel refuses a non-zero target), R_X86_64_32 and _32S must
 * fit their width, and (checked here, where the kernel trusts the module area's 2 GiB) so must
 * PC32 and PLT32.
 */
final class X86_64Relocator implements Relocator {
    static final int R_X86_64_NONE = 0, R_X86_64_64 = 1, R_X86_64_PC32 = 2, R_X86_64_PLT32 = 4, R_X86_64_32 = 10,
            R_X86_64_32S = 11, R_X86_64_PC64 = 24;

    @Override
    public String apply(byte[] bytes, int at, long place, long value, int type) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int size;
        long v = value;
        switch (type) {
            case R_X86_64_NONE: return null;
            case R_X86_64_64: size = 8; break;
            case R_X86_64_32:
                if ((v & 0xffffffffL) != v) return String.format("overflow in relocation type %d val %x", type, v);
                size = 4;
                break;
            case R_X86_64_32S:
                if ((long) (int) v != v) return String.format("overflow in relocation type %d val %x", type, v);
                size = 4;
                break;
            case R_X86_64_PC32:
            case R_X86_64_PLT32:
                v -= place;
                if ((long) (int) v != v) return String.format("overflow in relocation type %d val %x at 0x%x (the place is over 2 GiB from its target)", type, value, place);
                size = 4;
                break;
            case R_X86_64_PC64:
                v -= place;
                size = 8;
                break;
            default:
                return "Unknown rela relocation: " + type;
        }
        if (at < 0 || at + size > bytes.length) return String.format("relocation at 0x%x lies outside its section", at);
        for (int i = 0; i < size; i++) {
            if (bytes[at + i] != 0) return String.format("Invalid relocation target, existing value is nonzero for type %d, loc %x", type, place);
        }
        if (size == 8) b.putLong(at, v);
        else b.putInt(at, (int) v);
        return null;
    }

    @Override
    public String typeName(int type) {
        return switch (type) {
            case R_X86_64_NONE -> "R_X86_64_NONE";
            case R_X86_64_64 -> "R_X86_64_64";
            case R_X86_64_PC32 -> "R_X86_64_PC32";
            case R_X86_64_PLT32 -> "R_X86_64_PLT32";
            case R_X86_64_32 -> "R_X86_64_32";
            case R_X86_64_32S -> "R_X86_64_32S";
            case R_X86_64_PC64 -> "R_X86_64_PC64";
            default -> "R_X86_64_" + type;
        };
    }
}
