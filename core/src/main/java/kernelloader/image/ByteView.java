package kernelloader.image;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Reads integers of one byte order straight out of a shared byte array, without copying.
 * Every reader of on-disk structures goes through this, so the byte order is decided once.
 */
public final class ByteView {
    private static final VarHandle LE16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BE16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private final byte[] data;
    private final int length;
    private final boolean little;

    public ByteView(byte[] data, int length, ByteOrder order) {
        this.data = data;
        this.length = length;
        this.little = order == ByteOrder.LITTLE_ENDIAN;
    }

    public ByteView(byte[] data, ByteOrder order) {
        this(data, data.length, order);
    }

    public byte[] array() { return data; }
    public int length() { return length; }
    public ByteOrder order() { return little ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN; }

    /** True if {@code size} bytes at {@code pos} lie inside the view. */
    public boolean fits(long pos, long size) {
        return pos >= 0 && size >= 0 && pos + size <= length;
    }

    public int u8(int pos) { return data[pos] & 0xff; }

    public int u16(int pos) {
        return (little ? (short) LE16.get(data, pos) : (short) BE16.get(data, pos)) & 0xffff;
    }

    public int s32(int pos) {
        return little ? (int) LE32.get(data, pos) : (int) BE32.get(data, pos);
    }

    public long u32(int pos) { return s32(pos) & 0xffffffffL; }

    public long u64(int pos) {
        return little ? (long) LE64.get(data, pos) : (long) BE64.get(data, pos);
    }

    /** An unsigned word of 4 or 8 bytes. */
    public long word(int pos, int size) {
        return size == 8 ? u64(pos) : u32(pos);
    }

    /**
     * Index of the first occurrence of {@code pattern} at or after {@code from}, or -1.
     * Boyer-Moore-Horspool: images are tens of megabytes and searched for several patterns.
     */
    public static int indexOf(byte[] data, int length, byte[] pattern, int from) {
        int m = pattern.length;
        if (m == 0) return from;
        int[] skip = new int[256];
        Arrays.fill(skip, m);
        for (int i = 0; i < m - 1; i++) skip[pattern[i] & 0xff] = m - 1 - i;
        byte last = pattern[m - 1];
        int i = Math.max(0, from);
        int end = length - m;
        while (i <= end) {
            byte b = data[i + m - 1];
            if (b == last) {
                int j = m - 2;
                while (j >= 0 && data[i + j] == pattern[j]) j--;
                if (j < 0) return i;
            }
            i += skip[b & 0xff];
        }
        return -1;
    }
}
