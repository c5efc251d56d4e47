package kernelloader.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;

/**
 * The fuzz target's "shaped" inputs: a few header bytes that say how to build a large or
 * repetitive file around the rest, so that a small input reaches what the hostile-input classes
 * of flash dumps exercise: size (padding of zeros or 0xff before and after), repetition (the
 * payload many times in a row, as gzip members or bare) and nesting (payloads inside uImages
 * or gzip streams, many deep). Every shape is bounded to {@link #MAX} bytes.
 *
 * <pre>
 *   byte 0  repeat: 1 + (b % 48) copies of the payload, one after another
 *   byte 1  nest:   b % 10 wrappers around it, each uImage (bit 4 clear) or gzip (bit 4 set)
 *   byte 2  pad:    (b % 16) MiB of filler before, (b / 16) MiB after
 *   byte 3  filler: 0x00 when even, 0xff when odd; bit 1: each copy its own gzip member
 *   rest    the payload
 * </pre>
 */
final class Shapes {
    private Shapes() {}

    static final int MAX = 96 << 20;

    static byte[] build(byte[] recipe) throws IOException {
        if (recipe.length < 4) return recipe;
        int repeat = 1 + (recipe[0] & 0xff) % 48;
        int nest = (recipe[1] & 0xff) % 10;
        boolean gzipNest = (recipe[1] & 0x10) != 0;
        int before = ((recipe[2] & 0xff) % 16) << 20, after = ((recipe[2] & 0xff) / 16) << 20;
        byte filler = (recipe[3] & 1) == 0 ? 0 : (byte) 0xff;
        boolean members = (recipe[3] & 2) != 0;
        byte[] payload = java.util.Arrays.copyOfRange(recipe, 4, recipe.length);
        for (int i = 0; i < nest && payload.length < MAX / 2; i++) payload = gzipNest ? gzip(payload) : uImage(payload);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        fill(out, filler, before);
        byte[] copy = members ? gzip(payload) : payload;
        for (int i = 0; i < repeat && out.size() + copy.length <= MAX - after; i++) out.write(copy);
        fill(out, filler, after);
        return out.toByteArray();
    }

    private static void fill(ByteArrayOutputStream out, byte b, int n) {
        byte[] block = new byte[Math.min(n, 1 << 20)];
        java.util.Arrays.fill(block, b);
        for (int left = n; left > 0; left -= block.length) out.write(block, 0, Math.min(left, block.length));
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(b)) {
            g.write(data);
        }
        return b.toByteArray();
    }

    /** A legacy uImage (image.h: 64-byte big-endian header, header and data CRC32) of an ARM Linux kernel, uncompressed. */
    static byte[] uImage(byte[] data) {
        ByteBuffer h = ByteBuffer.allocate(64 + data.length);
        CRC32 dcrc = new CRC32();
        dcrc.update(data);
        h.putInt(0x27051956).putInt(0).putInt(0).putInt(data.length).putInt(0x80008000).putInt(0x80008000)
                .putInt((int) dcrc.getValue()).put((byte) 5).put((byte) 2).put((byte) 2).put((byte) 0);
        h.put("fuzz".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        h.position(64);
        h.put(data);
        byte[] out = h.array();
        CRC32 hcrc = new CRC32();
        hcrc.update(out, 0, 64);
        ByteBuffer.wrap(out).putInt(4, (int) hcrc.getValue());
        return out;
    }
}
