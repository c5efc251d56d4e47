package kernelloader.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import kernelloader.TestFiles;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.corpus.Corpus;
import kernelloader.layout.KernelLayout;

/**
 * Debian's arm64 6.1 kernel wrapped the way devices ship kernels, with the real tools:
 * Android boot images (mkbootimg, header v0-v3; v4 written by the AOSP layout), vendor_boot,
 * U-Boot uImage and FIT (mkimage), a flash dump; and headers that lie. Every wrapping must give
 * back the plain kernel's exact listing and report the layer with its header fields.
 */
@Tag("corpus")
class ContainerTest {
    private static Path dir;
    private static Path imageGz;
    private static List<String> expected;
    private static KernelLayout expectedLayout;

    @BeforeAll
    static void prepare() throws Exception {
        dir = TestFiles.tempDir("containers");
        Path image = Corpus.kernel("bookworm-arm64-arm64").image();
        Kernel plain = Kernel.read(image, KernelOptions.DEFAULT);
        expected = TestFiles.listing(plain.kallsyms().get());
        expectedLayout = plain.layout().get();
        imageGz = dir.resolve("Image.gz");
        TestFiles.sh("gzip -n -6 -c " + image + " > " + imageGz);
        Files.write(dir.resolve("ramdisk"), new byte[4096]);
    }

    private static Kernel readBack(Path p) throws Exception {
        Kernel m = Kernel.read(p, KernelOptions.DEFAULT);
        assertEquals(expected, TestFiles.listing(m.kallsyms().get()), "listing through " + m.image().describeLayers());
        KernelLayout layout = m.layout().get();
        assertEquals(expectedLayout.base().value(), layout.base().value(), "base through " + m.image().describeLayers());
        assertEquals(expectedLayout.regions(), layout.regions(), "regions through " + m.image().describeLayers());
        assertEquals(expectedLayout.ghidraLanguage(), layout.ghidraLanguage());
        return m;
    }

    @ParameterizedTest(name = "boot.img header v{0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void androidBootImageFromMkbootimg(int version) throws Exception {
        Path boot = dir.resolve("boot-v" + version + ".img");
        TestFiles.sh("mkbootimg --kernel " + imageGz + " --ramdisk " + dir.resolve("ramdisk")
                + " --cmdline 'console=ttyMSM0 androidboot.test=1' --os_version 12.0.0 --os_patch_level 2024-05"
                + " --header_version " + version + (version < 3 ? " --pagesize 2048" : "")
                + (version == 2 ? " --dtb " + dir.resolve("ramdisk") : "") + " -o " + boot);
        Kernel m = readBack(boot);
        Layer l = m.image().layers().get(0);
        assertEquals("boot.img v" + version, l.kind());
        assertTrue(l.detail().contains("page size " + (version < 3 ? 2048 : 4096)), l.detail());
        assertTrue(l.detail().contains("os version 12.0.0 (patch level 2024-05)"), l.detail());
        assertTrue(l.detail().contains("androidboot.test=1"), l.detail());
        assertEquals("gzip", m.image().layers().get(1).kind());
    }

    @Test
    void androidBootImageV4ByTheAospLayout() throws Exception {
        byte[] kernel = Files.readAllBytes(imageGz);
        int page = 4096;
        int kernelPages = (kernel.length + page - 1) / page;
        ByteBuffer b = ByteBuffer.allocate(page * (2 + kernelPages)).order(ByteOrder.LITTLE_ENDIAN);
        b.put("ANDROID!".getBytes(StandardCharsets.ISO_8859_1));
        b.putInt(8, kernel.length).putInt(12, 4096).putInt(16, (12 << 25) | (24 << 4) | 5).putInt(20, 1584);
        b.putInt(40, 4);
        b.position(44);
        b.put("console=ttyS0 v4".getBytes(StandardCharsets.ISO_8859_1));
        b.putInt(1580, 0);
        b.position(page);
        b.put(kernel);
        Path boot = dir.resolve("boot-v4.img");
        Files.write(boot, b.array());
        Kernel m = readBack(boot);
        assertEquals("boot.img v4", m.image().layers().get(0).kind());
        assertTrue(m.image().layers().get(0).detail().contains("console=ttyS0 v4"));
    }

    @Test
    void uncompressedImgWrapper() throws Exception {
        byte[] kernel = Files.readAllBytes(Corpus.kernel("bookworm-arm64-arm64").image());
        ByteBuffer b = ByteBuffer.allocate(0x14 + kernel.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("UNCOMPRESSED_IMG".getBytes(StandardCharsets.ISO_8859_1)).putInt(kernel.length).put(kernel);
        Path p = dir.resolve("uncompressed.img");
        Files.write(p, b.array());
        Kernel m = readBack(p);
        assertEquals(List.of("UNCOMPRESSED_IMG", "PE", "arm64 Image"), m.image().layers().stream().map(Layer::kind).toList());
    }

    @Test
    void vendorBootSaysItHoldsNoKernel() throws Exception {
        Path vendor = dir.resolve("vendor_boot.img");
        TestFiles.sh("mkbootimg --header_version 3 --vendor_boot " + vendor + " --vendor_ramdisk " + dir.resolve("ramdisk")
                + " --vendor_cmdline 'androidboot.hardware=test' --dtb " + dir.resolve("ramdisk"));
        KernelFormatException e = assertThrows(KernelFormatException.class, () -> Kernel.read(vendor, KernelOptions.DEFAULT).kallsyms().get());
        assertTrue(e.getMessage().contains("vendor_boot v3") && e.getMessage().contains("not the kernel"), e.getMessage());
    }

    @Test
    void ubootLegacyImage() throws Exception {
        Path uimage = dir.resolve("uImage");
        TestFiles.sh("mkimage -A arm64 -O linux -T kernel -C gzip -a 0x80000 -e 0x80000 -n 'Debian arm64' -d " + imageGz + " " + uimage);
        Kernel m = readBack(uimage);
        Layer l = m.image().layers().get(0);
        assertEquals("uImage", l.kind());
        assertTrue(l.detail().contains("\"Debian arm64\"") && l.detail().contains("load 0x80000") && l.detail().contains("compression gzip"), l.detail());
    }

    @Test
    void ubootFitImage() throws Exception {
        Path fit = dir.resolve("kernel.itb");
        TestFiles.sh("mkimage -f auto -A arm64 -O linux -T kernel -C gzip -a 0x80000 -e 0x80000 -d " + imageGz + " " + fit);
        Kernel m = readBack(fit);
        Layer l = m.image().layers().get(0);
        assertEquals("FIT", l.kind());
        assertTrue(l.detail().contains("compression gzip"), l.detail());
    }

    @Test
    void bootImageInAFlashDump() throws Exception {
        Path boot = dir.resolve("boot-dump-src.img");
        TestFiles.sh("mkbootimg --kernel " + imageGz + " --ramdisk " + dir.resolve("ramdisk") + " --header_version 2 --dtb "
                + dir.resolve("ramdisk") + " -o " + boot);
        byte[] img = Files.readAllBytes(boot);
        byte[] dump = new byte[3 * 1024 * 1024 + img.length + 4096];
        new Random(5).nextBytes(dump);
        System.arraycopy(img, 0, dump, 3 * 1024 * 1024, img.length);
        Path p = dir.resolve("flash.bin");
        Files.write(p, dump);
        Kernel m = readBack(p);
        assertEquals("boot.img v2", m.image().layers().get(0).kind());
        assertEquals(3 * 1024 * 1024, m.image().layers().get(0).offset());
    }

    /**
     * A header that lies is reported, never thrown from deep inside. If the kernel behind it is
     * intact it is still found (its stream is found by magic); if not, the one-line error names
     * the lie.
     */
    private static void lie(String name, byte[] data, String said) throws Exception {
        Kernel m = Kernel.read(name, data, data.length, KernelOptions.DEFAULT);
        assertEquals(expected, TestFiles.listing(m.kallsyms().get()));
        assertTrue(m.diagnostics().attempts().stream().anyMatch(a -> a.contains(said)), m.diagnostics().attempts().toString());
        byte[] cut = Arrays.copyOf(data, 1 << 20);
        String msg = failure(name + ".cut", cut);
        assertTrue(msg.contains(said), msg);
    }

    @Test
    void headersThatLie() throws Exception {
        byte[] good = Files.readAllBytes(makeV0());
        byte[] bad = good.clone();
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 0x7fff0000);   // kernel size past the end
        lie("lying-size.img", bad, "boot.img kernel (offset 0x800, 2147418112 bytes) lies beyond the end of the file");

        bad = good.clone();
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(36, 0);           // page size 0
        lie("pagesize0.img", bad, "page size 0 is not a power of two");

        byte[] u = Files.readAllBytes(makeUImage());
        ByteBuffer.wrap(u).order(ByteOrder.BIG_ENDIAN).putInt(12, 0x7ffffff0);        // payload size past the end
        lie("lying.uImage", u, "uImage payload (offset 0x40, 2147483632 bytes) lies beyond the end");
    }

    @Test
    void containersNestedAHundredDeep() throws Exception {
        byte[] inner = Files.readAllBytes(imageGz);
        for (int i = 0; i < 100; i++) {
            ByteBuffer b = ByteBuffer.allocate(64 + inner.length).order(ByteOrder.BIG_ENDIAN);
            b.putInt(0x27051956).putInt(0).putInt(0).putInt(inner.length);
            b.put(30, (byte) 2);   // type: kernel
            b.position(64);
            b.put(inner);
            inner = b.array();
        }
        String msg = failure("nested.uImage", inner);
        assertTrue(msg.contains("nested more than"), msg);
    }

    @Test
    void containersNestedAHundredDeepAroundNoKernel() throws Exception {
        // each layer's scan finds every header nested in it: without a bound on the images
        // searched this is 100^8 visits; with it, a one-line error in seconds
        byte[] inner = new byte[1 << 20];
        new Random(9).nextBytes(inner);
        for (int i = 0; i < 100; i++) {
            ByteBuffer b = ByteBuffer.allocate(64 + inner.length).order(ByteOrder.BIG_ENDIAN);
            b.putInt(0x27051956).putInt(0).putInt(0).putInt(inner.length);
            b.put(30, (byte) 2);
            b.position(64);
            b.put(inner);
            inner = b.array();
        }
        String msg = failure("nested-noise.uImage", inner);
        assertTrue(msg.contains("no kallsyms table found"), msg);
    }

    private static String failure(String name, byte[] data) {
        KernelFormatException e = assertThrows(KernelFormatException.class,
                () -> Kernel.read(name, data, data.length, KernelOptions.DEFAULT).kallsyms().get());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    private static Path makeV0() throws Exception {
        Path boot = dir.resolve("boot-lie-v0.img");
        TestFiles.sh("mkbootimg --kernel " + imageGz + " --ramdisk " + dir.resolve("ramdisk") + " --header_version 0 --pagesize 2048 -o " + boot);
        return boot;
    }

    private static Path makeUImage() throws Exception {
        Path u = dir.resolve("lie.uImage");
        TestFiles.sh("mkimage -A arm64 -O linux -T kernel -C gzip -a 0x80000 -e 0x80000 -n 'Debian arm64' -d " + imageGz + " " + u);
        return u;
    }

    @Test
    void aKernelAfterAnotherKernelsHeaderIsReadAsItsOwnArchitecture() throws Exception {
        // a flash dump: Debian's armhf zImage, then at the next MiB the RISC-V Image. The raw RISC-V
        // table is found first, in the file as it is, below the zImage's header: that header names
        // ARM, the table's own symbols RISC-V, and the symbols decide
        byte[] zimage = Files.readAllBytes(Corpus.kernel("bullseye-armhf-armmp").image());
        byte[] riscv = Files.readAllBytes(Corpus.kernel("sid-riscv64-riscv64").image());
        byte[] dump = new byte[((zimage.length >> 20) + 1 << 20) + riscv.length];
        System.arraycopy(zimage, 0, dump, 0, zimage.length);
        System.arraycopy(riscv, 0, dump, dump.length - riscv.length, riscv.length);
        Kernel first = Kernel.read("dump", dump, dump.length, KernelOptions.DEFAULT);
        assertEquals(118383, first.kallsyms().get().size());
        assertEquals("RISCV:LE:64:RV64GC", first.layout().get().ghidraLanguage(), first.layout().get().arch().evidence());
        assertTrue(first.layout().get().arch().evidence().contains("the zImage header before it names ARM"));
        Kernel second = Kernel.read("dump", dump, dump.length, KernelOptions.DEFAULT.withTable(1));
        assertEquals("ARM:LE:32:v8", second.layout().get().ghidraLanguage());
        assertEquals(43274, second.kallsyms().get().size());
    }

    @Test
    void aKernelCarriedAsDataInASharedObjectIsPeeledAsALayer() throws Exception {
        // an x86-64 shared object (gcc, .incbin) holding the arm64 Image in .rodata: its
        // segments do not hold the kernel's symbols, so the kernel is cut out and read on its own
        Path d = dir.resolve("embedded");
        Files.createDirectories(d);
        Files.copy(Corpus.kernel("bookworm-arm64-arm64").image(), d.resolve("Image"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(d.resolve("host.c"), "__asm__(\".section .rodata\\n.balign 4096\\n.global blob\\nblob:\\n.incbin \\\"Image\\\"\\n\");\n"
                + "extern const char blob[];\nconst char *kernel(void) { return blob; }\n");
        TestFiles.sh("cd " + d + " && gcc -O2 -shared -fPIC -o libhost.so host.c");
        Kernel m = Kernel.read(d.resolve("libhost.so"), KernelOptions.DEFAULT);
        assertEquals(expected, TestFiles.listing(m.kallsyms().get()));
        KernelLayout layout = m.layout().get();
        assertEquals(expectedLayout.base().value(), layout.base().value());
        assertEquals(expectedLayout.entry().value(), layout.entry().value());
        // the regions are the Image's; only where its file part ends is the host section's end
        // (gcc pads .rodata by a few bytes after the blob)
        assertEquals(expectedLayout.regions().size(), layout.regions().size());
        for (int i = 0; i < layout.regions().size(); i++) {
            var want = expectedLayout.regions().get(i);
            var got = layout.regions().get(i);
            assertEquals(want.name(), got.name());
            assertTrue(Math.abs(want.start() - got.start()) < 4096 && Math.abs(want.end() - got.end()) < 4096, want + " / " + got);
        }
        assertEquals("ELF \u2192 embedded kernel \u2192 PE \u2192 arm64 Image", m.image().describeLayers());
        assertEquals("certain", m.verification().get().confidence(), m.verification().get().checks().toString());
        assertEquals(10941, m.exports().get().exports().size());
    }
}
