package kernelloader.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import kernelloader.TestFiles;
import kernelloader.corpus.Corpus;

/**
 * The system's xz gives what xz-java gives (the same bytes, the same stream length consumed),
 * or nothing, leaving the stream to xz-java: streams made here by Debian's xz as the kernel's
 * build makes them (xz_wrap.sh: --check=crc32, the BCJ filter) and in other ways, whole, cut,
 * damaged and concatenated; and the XZ-compressed kernels of the corpus.
 */
class SystemXzTest {

    private static byte[] sample() {
        // text-like and random stretches: a stream of several LZMA2 chunks
        byte[] d = new byte[3 << 20];
        Random r = new Random(7);
        for (int i = 0; i < d.length; i++) d[i] = (byte) ((i / 4096) % 3 == 0 ? r.nextInt(256) : "kallsyms_token_table\0".charAt(i % 21));
        return d;
    }

    private static byte[] xz(byte[] plain, String options) throws Exception {
        Path dir = TestFiles.tempDir("xz");
        Files.write(dir.resolve("in"), plain);
        TestFiles.sh("xz " + options + " -c " + dir.resolve("in") + " > " + dir.resolve("in.xz"));
        return Files.readAllBytes(dir.resolve("in.xz"));
    }

    /** Both decoders on {@code file} at {@code at}: the system's must be the same as xz-java's, where it answers. */
    private static Compression.Decoded same(byte[] file, int at) {
        Compression.Decoded java = Compression.XZ.decodeInJava(file, at, file.length, 1L << 30);
        Compression.Decoded sys = SystemXz.decode(file, at, file.length, 1L << 30);
        if (sys != null) {
            assertTrue(java.complete(), "the system's xz answered where xz-java failed: " + java.error());
            assertEquals(java.length(), sys.length());
            assertEquals(java.consumed(), sys.consumed());
            assertArrayEquals(Arrays.copyOf(java.data(), java.length()), Arrays.copyOf(sys.data(), sys.length()));
        }
        return sys;
    }

    @Test
    void wholeStreamsDecodeAlikeInEveryShape() throws Exception {
        byte[] plain = sample();
        for (String options : new String[] {"--check=crc32 --x86 --lzma2=dict=32MiB", "--check=sha256 -6", "--check=none -1",
                "--check=crc64 --block-size=1MiB"}) {
            byte[] s = xz(plain, options);
            // after other bytes and followed by more (a zImage's payload and its size word)
            byte[] file = new byte[100 + s.length + 64];
            System.arraycopy(s, 0, file, 100, s.length);
            Arrays.fill(file, 100 + s.length, file.length, (byte) 0x5a);
            Compression.Decoded d = same(file, 100);
            assertNotNull(d, "the system's xz decoded " + options);
            assertEquals(plain.length, d.length());
            assertEquals(s.length, d.consumed());
            assertEquals(s.length + 100, XzStreamEnd.of(file, 100, file.length), options);
        }
    }

    @Test
    void twoStreamsInARowAreTwo() throws Exception {
        byte[] a = xz(sample(), "--check=crc32");
        byte[] b = xz(new byte[1 << 20], "--check=crc32");
        byte[] file = new byte[a.length + b.length];
        System.arraycopy(a, 0, file, 0, a.length);
        System.arraycopy(b, 0, file, a.length, b.length);
        Compression.Decoded d = same(file, 0);
        assertNotNull(d);
        assertEquals(a.length, d.consumed());
        assertEquals(sample().length, d.length());
    }

    @Test
    void cutAndDamagedStreamsAreLeftToXzJava() throws Exception {
        byte[] s = xz(sample(), "--check=crc32");
        // cut: no footer, so the system's xz is not asked
        byte[] cut = Arrays.copyOf(s, s.length / 2);
        assertEquals(-1, XzStreamEnd.of(cut, 0, cut.length));
        assertNull(SystemXz.decode(cut, 0, cut.length, 1L << 30));
        Compression.Decoded viaDecode = Compression.XZ.decode(cut, 0, cut.length, 1L << 30);
        assertFalse(viaDecode.complete());
        // damaged in the middle: the footer is there, xz fails, and decode gives xz-java's account
        byte[] bad = s.clone();
        bad[bad.length / 2] ^= 0x55;
        assertNull(same(bad, 0));
        Compression.Decoded d = Compression.XZ.decode(bad, 0, bad.length, 1L << 30);
        Compression.Decoded java = Compression.XZ.decodeInJava(bad, 0, bad.length, 1L << 30);
        assertFalse(d.complete());
        assertEquals(java.error(), d.error());
        assertEquals(java.length(), d.length());
    }

    @Test
    void aCapIsXzJavasToApply() throws Exception {
        byte[] s = xz(sample(), "--check=crc32");
        assertNull(SystemXz.decode(s, 0, s.length, 1 << 20));
        Compression.Decoded d = Compression.XZ.decode(s, 0, s.length, 1 << 20);
        assertEquals(1 << 20, d.length());
        assertTrue(d.error().contains("exceeds the limit"), d.error());
    }

    @Test
    @Tag("corpus")
    void theXzKernelsDecodeAlike() throws Exception {
        int kernels = 0;
        for (String id : new String[] {"bullseye-armhf-armmp", "bookworm-i386-686", "bookworm-mips64el-5kc-malta"}) {
            byte[] file = Files.readAllBytes(Corpus.kernel(id).image());
            // the payload: the first xz magic whose stream has a footer (the decompressor's code
            // holds the magic too, as data)
            int at = -1;
            for (int i = 0; i + 6 <= file.length && at < 0; i++) {
                if (Compression.XZ.startsAt(file, file.length, i) && XzStreamEnd.of(file, i, file.length) > 0) at = i;
            }
            assertTrue(at >= 0, id);
            Compression.Decoded d = same(file, at);
            assertNotNull(d, id);
            assertTrue(d.length() > 10 << 20, id);
            kernels++;
        }
        assertEquals(3, kernels);
    }
}
