package kernelloader.image.container;

import java.nio.charset.StandardCharsets;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/** Small helpers shared by the header readers: bounds checks and C strings. */
final class Headers {
    private Headers() {}

    static boolean magic(ByteView v, int offset, String magic) {
        byte[] m = magic.getBytes(StandardCharsets.ISO_8859_1);
        if (!v.fits(offset, m.length)) return false;
        for (int i = 0; i < m.length; i++) if (v.array()[offset + i] != m[i]) return false;
        return true;
    }

    /** A NUL-terminated string of at most {@code max} bytes, printable only. */
    static String cString(ByteView v, int offset, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < max && v.fits(offset + i, 1); i++) {
            int c = v.u8(offset + i);
            if (c == 0) break;
            sb.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
        }
        return sb.toString();
    }

    /** Checks that [offset, offset+length) lies in the file, or says which field lies. */
    static void within(ByteView v, String what, long offset, long length) throws KernelFormatException {
        if (offset < 0 || length < 0 || offset + length > v.length()) {
            throw new KernelFormatException(what + " (offset 0x" + Long.toHexString(offset) + ", " + length
                    + " bytes) lies beyond the end of the file (" + v.length() + " bytes)");
        }
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
