package kernelloader.btf;

import java.nio.ByteOrder;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/**
 * struct btf_header (include/uapi/linux/btf.h): magic 0xeB9F in the writer's byte order,
 * version 1, flags, the header's own length, then the type and string sections' offsets and
 * lengths, counted from the end of the header.
 */
public record BtfHeader(ByteOrder order, int version, int flags, int headerLength,
                        int typeOffset, int typeLength, int stringOffset, int stringLength) {
    public static final int MAGIC = 0xeb9f;
    /** The fields up to str_len; newer writers may append fields, which must then be zero. */
    public static final int MIN_LENGTH = 24;
    private static final int MAX_LENGTH = 256;

    /** The byte order whose magic is at {@code pos}, or null if neither's is. */
    public static ByteOrder orderAt(byte[] data, int length, int pos) {
        if (pos < 0 || pos + 4 > length || data[pos + 2] != 1) return null;
        int b0 = data[pos] & 0xff, b1 = data[pos + 1] & 0xff;
        if (b0 == 0x9f && b1 == 0xeb) return ByteOrder.LITTLE_ENDIAN;
        if (b0 == 0xeb && b1 == 0x9f) return ByteOrder.BIG_ENDIAN;
        return null;
    }

    /**
     * Reads and checks the header at {@code pos}: the sections must lie inside the
     * {@code available} bytes from there, the type section be 4-byte aligned, and the strings
     * start and end with a NUL as every BTF writer makes them.
     */
    public static BtfHeader read(byte[] data, int length, int pos, long available) throws KernelFormatException {
        ByteOrder order = orderAt(data, length, pos);
        if (order == null) throw new KernelFormatException("no BTF magic 0xeB9F (version 1) at offset 0x" + Integer.toHexString(pos));
        available = Math.min(available, (long) length - pos);
        if (available < MIN_LENGTH) throw new KernelFormatException("BTF header at 0x" + Integer.toHexString(pos) + " is cut off");
        ByteView v = new ByteView(data, length, order);
        long hdrLen = v.u32(pos + 4);
        if (hdrLen < MIN_LENGTH || hdrLen > MAX_LENGTH || hdrLen > available) {
            throw new KernelFormatException("BTF header at 0x" + Integer.toHexString(pos) + " claims a length of " + hdrLen + " bytes");
        }
        for (int i = MIN_LENGTH; i < hdrLen; i++) {
            if (data[pos + i] != 0) {
                throw new KernelFormatException("BTF header at 0x" + Integer.toHexString(pos) + " has unknown non-zero fields after str_len");
            }
        }
        long typeOff = v.u32(pos + 8), typeLen = v.u32(pos + 12), strOff = v.u32(pos + 16), strLen = v.u32(pos + 20);
        long body = available - hdrLen;
        if (typeOff + typeLen > body || strOff + strLen > body || (typeOff & 3) != 0 || strLen == 0) {
            throw new KernelFormatException("BTF header at 0x" + Integer.toHexString(pos) + " places its sections outside the "
                    + body + " bytes that follow it (types " + typeOff + "+" + typeLen + ", strings " + strOff + "+" + strLen + ")");
        }
        if (typeOff < strOff ? typeOff + typeLen > strOff : strOff + strLen > typeOff) {
            throw new KernelFormatException("BTF header at 0x" + Integer.toHexString(pos) + " has overlapping type and string sections");
        }
        int strStart = pos + (int) hdrLen + (int) strOff;
        if (data[strStart + (int) strLen - 1] != 0) {
            throw new KernelFormatException("BTF string section at 0x" + Integer.toHexString(strStart) + " does not end with a NUL");
        }
        return new BtfHeader(order, data[pos + 2] & 0xff, data[pos + 3] & 0xff, (int) hdrLen,
                (int) typeOff, (int) typeLen, (int) strOff, (int) strLen);
    }

    /** Bytes from the magic to the end of the later of the two sections. */
    public int totalLength() {
        return headerLength + Math.max(typeOffset + typeLength, stringOffset + stringLength);
    }
}
