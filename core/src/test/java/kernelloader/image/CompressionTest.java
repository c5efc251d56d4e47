package kernelloader.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import kernelloader.TestFiles;
import kernelloader.corpus.Corpus;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.layout.KernelLayout;

/**
 * A real kernel (Debian's armhf 5.10 zImage, unpacked) recompressed with each of the kernel's
 * seven compressors, by Debian's own tools with the flags the kernel's Makefiles use, and buried
 * in a flash-dump-like file: leading garbage, trailing erased flash. Every one must give the
 * same symbol table as the plain image.
 */
@Tag("corpus")
class CompressionTest {
    private static Path dir;
    private static Path plain;
    private static List<String> expected;
    private static KernelLayout expectedLayout;

    @BeforeAll
    static void unpackRealKernel() throws Exception {
        dir = TestFiles.tempDir("compression");
        Kernel m = Kernel.read(Corpus.kernel("bullseye-armhf-armmp").image(), KernelOptions.DEFAULT);
        plain = dir.resolve("Image");
        try (var out = Files.newOutputStream(plain)) {
            out.write(m.image().data(), 0, m.image().length());
        }
        expected = TestFiles.listing(m.kallsyms().get());
        expectedLayout = m.layout().get();
        Kernel again = Kernel.read(plain, KernelOptions.DEFAULT);
        assertEquals("raw", again.image().describeLayers());
        assertEquals(expected, TestFiles.listing(again.kallsyms().get()));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
        "gzip  | gzip -n -9 -c",
        "bzip2 | bzip2 -9 -c",
        "lzma  | lzma -9 -c",
        "xz    | xz --check=crc32 --arm --lzma2=dict=32MiB -c",
        "lzo   | lzop -9 -c",
        "lz4   | lz4 -l -9 -c",
        "zstd  | zstd -19 -q -c",
    })
    void recompressedAndBuriedInAFlashDump(String layer, String compressor) throws Exception {
        Path packed = dir.resolve("Image." + layer);
        TestFiles.sh(compressor + " < " + plain + " > " + packed);
        byte[] stream = Files.readAllBytes(packed);
        byte[] garbage = new byte[1 << 20];
        new Random(1).nextBytes(garbage);
        byte[] dump = new byte[garbage.length + stream.length + 65536];
        System.arraycopy(garbage, 0, dump, 0, garbage.length);
        System.arraycopy(stream, 0, dump, garbage.length, stream.length);
        Arrays.fill(dump, garbage.length + stream.length, dump.length, (byte) 0xff);

        Kernel m = Kernel.read("dump." + layer, dump, dump.length, KernelOptions.DEFAULT);
        assertEquals(layer, m.image().layers().get(0).kind());
        assertEquals(garbage.length, m.image().layers().get(0).offset(), "stream found at its offset");
        assertEquals(expected, TestFiles.listing(m.kallsyms().get()));
        assertTrue(m.banner().orNull().startsWith("Linux version 5.10"), m.banner().orNull());
        KernelLayout layout = m.layout().get();
        assertEquals(expectedLayout.base().value(), layout.base().value(), "base");
        assertEquals(expectedLayout.regions(), layout.regions(), "regions");
        assertEquals(expectedLayout.ghidraLanguage(), layout.ghidraLanguage());
    }

    @Test
    void openWrtLzmaInAUImageAndASysupgradeImage() throws Exception {
        // OpenWrt's kernels: LZMA "alone" made by the LZMA SDK's lzma (lzma_alone here, the same
        // tool and options as OpenWrt's build: lzma e IN OUT -lc1 -lp2 -pb2), properties byte
        // 0x6d rather than lzma -9's 0x5d, in a uImage; its sysupgrade image is that uImage, then
        // the root file system, then fwtool's JSON metadata
        Path lz = dir.resolve("Image.owrt.lzma"), uimage = dir.resolve("openwrt-uImage"), sysupgrade = dir.resolve("sysupgrade.bin");
        TestFiles.sh("lzma_alone e " + plain + " " + lz + " -lc1 -lp2 -pb2 > /dev/null");
        assertEquals(0x6d, Files.readAllBytes(lz)[0] & 0xff, "OpenWrt's properties byte");
        TestFiles.sh("mkimage -A arm -O linux -T kernel -C lzma -a 0x80008000 -e 0x80008000 -n 'ARM OpenWrt Linux-5.10' -d "
                + lz + " " + uimage + " > /dev/null");
        byte[] rootfs = new byte[3 << 20];
        new Random(2).nextBytes(rootfs);
        System.arraycopy("hsqs".getBytes(StandardCharsets.ISO_8859_1), 0, rootfs, 0, 4);
        try (var o = Files.newOutputStream(sysupgrade)) {
            o.write(Files.readAllBytes(uimage));
            o.write(rootfs);
            o.write("{ \"metadata_version\": \"1.1\", \"supported_devices\": [\"test\"] }".getBytes(StandardCharsets.ISO_8859_1));
        }
        for (Path p : List.of(lz, uimage, sysupgrade)) {
            Kernel m = Kernel.read(p, KernelOptions.DEFAULT);
            assertEquals(expected, TestFiles.listing(m.kallsyms().get()), p + " through " + m.image().describeLayers());
            assertTrue(m.image().describeLayers().endsWith("lzma"), m.image().describeLayers());
        }
    }
}
