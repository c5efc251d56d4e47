package kernelloader.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;

/** The embedded .config: found after a few false starts; an image of 200,000 false starts ends at once, with none. */
class IkConfigTest {
    private static final byte[] FALSE_START = "IKCFG_ST\u001f\u008b\u0008\u0000junk".getBytes(StandardCharsets.ISO_8859_1);

    private static byte[] blob(String config) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write("IKCFG_ST".getBytes(StandardCharsets.ISO_8859_1));
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            gz.write(config.getBytes(StandardCharsets.ISO_8859_1));
        }
        b.write("IKCFG_ED".getBytes(StandardCharsets.ISO_8859_1));
        return b.toByteArray();
    }

    private static KernelImage image(byte[]... parts) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) b.write(p);
        byte[] d = b.toByteArray();
        return new KernelImage(d, d.length, List.of(), null);
    }

    @Test
    void foundAfterFalseStarts() throws Exception {
        ByteArrayOutputStream fakes = new ByteArrayOutputStream();
        for (int i = 0; i < 10; i++) fakes.write(FALSE_START);
        assertEquals("CONFIG_KALLSYMS=y\n", IkConfig.find(image(fakes.toByteArray(), blob("CONFIG_KALLSYMS=y\n"))));
    }

    @Test
    void manyFalseStartsEndWithNone() throws Exception {
        ByteArrayOutputStream fakes = new ByteArrayOutputStream();
        for (int i = 0; i < 200_000; i++) fakes.write(FALSE_START);
        // each start once searched to the end of the file for its end marker: 200,000 x 3 MB
        assertNull(IkConfig.find(image(fakes.toByteArray(), new byte[1 << 20])));
    }
}
