package kernelloader.image;

/**
 * Walks one zstd frame's headers (RFC 8878 §3.1.1) to find where it ends, without decoding.
 * zstd-jni reads on into whatever follows a frame as if it were another frame; kernels put data
 * right after theirs (x86 appends the decompressed size), so the decoder is given the frame only.
 */
final class ZstdFrame {
    private ZstdFrame() {}

    /** The offset just past the frame starting at {@code pos}, or {@code end} if it cannot tell. */
    static int end(byte[] data, int pos, int end) {
        int p = pos + 4;                        // magic
        if (p >= end) return end;
        int fhd = data[p++] & 0xff;
        int fcsFlag = fhd >>> 6, singleSegment = (fhd >>> 5) & 1, checksum = (fhd >>> 2) & 1, dictFlag = fhd & 3;
        if (singleSegment == 0) p++;            // window descriptor
        p += new int[] {0, 1, 2, 4}[dictFlag];
        p += fcsFlag == 0 ? singleSegment : new int[] {0, 2, 4, 8}[fcsFlag];
        for (int blocks = 0; p + 3 <= end && blocks < (1 << 24); blocks++) {
            int header = (data[p] & 0xff) | (data[p + 1] & 0xff) << 8 | (data[p + 2] & 0xff) << 16;
            p += 3;
            int type = (header >>> 1) & 3, size = header >>> 3;
            if (type == 3) return end;          // reserved: corrupt, let the decoder say so
            p += type == 1 ? 1 : size;          // RLE blocks store one byte
            if ((header & 1) != 0) {
                p += checksum * 4;
                return Math.min(p, end);
            }
        }
        return end;
    }
}
