package kernelloader.reloc;

import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A kernel's RELATIVE relocations as data, the way Ghidra keeps an ELF's relocation table: per
 * entry the place (a virtual address) and the value the kernel stores there at boot
 * ({@code *place = addend}). Nothing is applied by holding them: a face applies them to its own
 * copy (the relocated view, Ghidra program memory, the ELF it writes).
 *
 * @param type       the relocation type number (R_AARCH64_RELATIVE is 1027, ...)
 * @param typeName   its name, for logs and Ghidra's relocation table
 * @param order      the byte order the values are stored in
 * @param base       the address of the image's first byte (image offset of a place = place - base)
 * @param tableStart image offset of the table (.rela.dyn) the entries were read from
 * @param tableEnd   image offset just past it
 * @param places     the address each value is stored at
 * @param values     the 8-byte value stored there
 */
public record Relocations(int type, String typeName, ByteOrder order, long base, int tableStart, int tableEnd,
                          long[] places, long[] values) {
    /** Every value is a 64-bit word: RELATIVE relocations exist here on 64-bit kernels only. */
    public static final int WIDTH = 8;

    public int count() { return places.length; }

    /** The image offset of entry {@code i}'s place, or -1 when it lies outside an image of {@code length} bytes. */
    public long imageOffset(int i, int length) {
        long off = places[i] - base;
        return off >= 0 && off + WIDTH <= length ? off : -1;
    }

    /** The bytes entry {@code i} stores, in the kernel's byte order. */
    public byte[] bytes(int i) {
        byte[] b = new byte[WIDTH];
        encode(values[i], b, 0);
        return b;
    }

    /** A copy of the first {@code length} bytes of {@code image} with every relocation applied. */
    public byte[] appliedTo(byte[] image, int length) {
        byte[] out = Arrays.copyOf(image, length);
        for (int i = 0; i < places.length; i++) {
            long off = imageOffset(i, length);
            if (off >= 0) encode(values[i], out, (int) off);
        }
        return out;
    }

    private void encode(long v, byte[] into, int at) {
        for (int b = 0; b < WIDTH; b++) {
            int shift = order == ByteOrder.LITTLE_ENDIAN ? 8 * b : 8 * (WIDTH - 1 - b);
            into[at + b] = (byte) (v >>> shift);
        }
    }
}
