package kernelloader.kallsyms;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import kernelloader.image.ByteView;

/**
 * {@code kallsyms_token_table} (256 NUL-terminated strings) and {@code kallsyms_token_index}
 * (256 u16 offsets into it), the anchor from which every other kallsyms array is found.
 *
 * Why this anchor: scripts/kallsyms.c first gives every byte value that occurs in a symbol name
 * its own one-character token (insert_real_symbols_in_table), so tokens 0x30..0x39 are always
 * "0".."9" in a row. The token index must then reproduce the string boundaries exactly, which
 * also tells the byte order.
 */
public final class TokenTable {
    private static final byte[] DIGITS = "0\0001\0002\0003\0004\0005\0006\0007\0008\0009\000".getBytes(
            StandardCharsets.ISO_8859_1);
    /** Tokens expand to at most a few dozen characters; a longer "token" means this is not a table. */
    private static final int MAX_TOKEN = 256;

    private final int start;
    private final int end;
    private final int indexStart;
    private final ByteOrder order;
    private final byte[][] tokens;

    private TokenTable(int start, int end, int indexStart, ByteOrder order, byte[][] tokens) {
        this.start = start;
        this.end = end;
        this.indexStart = indexStart;
        this.order = order;
        this.tokens = tokens;
    }

    /** File offset of kallsyms_token_table. */
    public int start() { return start; }
    /** Offset just past the table's last NUL. */
    public int end() { return end; }
    /** File offset of kallsyms_token_index. */
    public int indexStart() { return indexStart; }
    /** Offset just past kallsyms_token_index. */
    public int indexEnd() { return indexStart + 512; }
    /** The kernel's byte order, as the token index states it. */
    public ByteOrder order() { return order; }
    public byte[] token(int i) { return tokens[i]; }

    /** Every consistent token table in the data, in file order. */
    public static List<TokenTable> findAll(byte[] data, int length) {
        List<TokenTable> found = new ArrayList<>();
        // Any 20-byte window holds a multiple of 19: sample every 19th byte, and where it is a
        // digit (or the NUL after one) work out where "0\0" would start. Images are mostly
        // zeros and code, so almost every sample is rejected by one comparison.
        int last = length - DIGITS.length;
        int skipUntil = -1;
        for (int p = 0; p < length; p += 19) {
            int b = data[p];
            // q: the digit's own position (the sample, or the byte before a sampled NUL)
            int q = b == 0 && p > 0 ? p - 1 : p;
            int c = data[q];
            if (c < '0' || c > '9') continue;
            int d = q - 2 * (c - '0');
            if (d < 0 || d > last || d < skipUntil || !matchesDigits(data, d)) continue;
            TokenTable t = at(data, length, d);
            if (t != null && (found.isEmpty() || found.get(found.size() - 1).start() != t.start())) {
                found.add(t);
                skipUntil = t.indexEnd();
            }
        }
        return found;
    }

    private static boolean matchesDigits(byte[] data, int d) {
        for (int i = 0; i < DIGITS.length; i++) if (data[d + i] != DIGITS[i]) return false;
        return true;
    }

    /** Tries the table whose token 0x30 ("0") sits at {@code zeroToken}. */
    private static TokenTable at(byte[] data, int length, int zeroToken) {
        // walk forward over tokens 0x30..0xff to find the table's end
        int pos = zeroToken;
        for (int i = 0x30; i < 256; i++) {
            pos = skipString(data, length, pos);
            if (pos < 0) return null;
        }
        int end = pos;
        // token_index follows after alignment padding (up to 256 bytes with old ".align 8" on ARM)
        for (int idx = (end + 1) & ~1; idx <= end + 256 && idx + 512 <= length; idx += 2) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
                ByteView v = new ByteView(data, length, order);
                if (v.u16(idx) != 0) continue;
                int start = zeroToken - v.u16(idx + 2 * 0x30);
                if (start < 0 || start > zeroToken) continue;
                byte[][] tokens = verify(data, length, v, start, idx, end);
                if (tokens != null) return new TokenTable(start, end, idx, order, tokens);
            }
        }
        return null;
    }

    private static byte[][] verify(byte[] data, int length, ByteView v, int start, int idx, int end) {
        byte[][] tokens = new byte[256][];
        int pos = start;
        for (int i = 0; i < 256; i++) {
            if (v.u16(idx + 2 * i) != pos - start) return null;
            int next = skipString(data, length, pos);
            if (next < 0) return null;
            tokens[i] = Arrays.copyOfRange(data, pos, next - 1);
            pos = next;
        }
        return pos == end ? tokens : null;
    }

    /** Position after the NUL ending the string at {@code pos}, or -1. */
    private static int skipString(byte[] data, int length, int pos) {
        int limit = Math.min(length, pos + MAX_TOKEN);
        for (int i = pos; i < limit; i++) {
            if (data[i] == 0) return i + 1;
        }
        return -1;
    }
}
