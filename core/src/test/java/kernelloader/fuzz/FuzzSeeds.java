package kernelloader.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import kernelloader.TestFiles;
import kernelloader.btf.BtfBuilder;
import kernelloader.kallsyms.SeedImages;
import kernelloader.ksymtab.SeedTables;

/**
 * Writes the fuzz seeds (src/test/resources/fuzz/seeds): small kernels with real-format kallsyms
 * tables as a file, behind each kind of layer the unwrapper peels (gzip, xz, bzip2, lz4 -l,
 * lzop, zstd by Debian's tools; boot.img by mkbootimg; uImage by mkimage), and export tables in
 * memory. Each file starts with the target's mode byte. Run by hand when the seeds should change:
 * {@code mvn -q test-compile && java -cp target/test-classes:target/classes:$(cat target/ghidra.classpath) kernelloader.fuzz.FuzzSeeds}
 */
public final class FuzzSeeds {
    private FuzzSeeds() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "src/test/resources/fuzz/seeds");
        Files.createDirectories(out);
        Path tmp = TestFiles.tempDir("seeds");
        byte[] armhf = SeedImages.armhf420(700);
        write(out.resolve("file-raw-4.20-armhf"), armhf);
        write(out.resolve("file-raw-6.4-arm64"), SeedImages.arm64v64(700));
        write(out.resolve("file-raw-2.6-ppc64be"), SeedImages.ppc64Absolute(700));
        Path raw = tmp.resolve("Image");
        Files.write(raw, armhf);
        String[][] tools = {{"gzip", "gzip -n -9 -c"}, {"xz", "xz --check=crc32 -c"}, {"bzip2", "bzip2 -9 -c"},
                            {"lz4", "lz4 -l -9 -c"}, {"lzop", "lzop -9 -c"}, {"zstd", "zstd -19 -q -c"}};
        for (String[] t : tools) {
            Path packed = tmp.resolve("Image." + t[0]);
            TestFiles.sh(t[1] + " " + raw + " > " + packed);
            write(out.resolve("file-" + t[0] + "-4.20-armhf"), Files.readAllBytes(packed));
        }
        Path gz = tmp.resolve("Image.gzip");
        TestFiles.sh("mkbootimg --kernel " + gz + " --header_version 2 --dtb " + gz + " --os_version 12.0.0 --os_patch_level 2024-05"
                + " --cmdline console=ttyS0 -o " + tmp.resolve("boot.img"));
        write(out.resolve("file-bootimg-v2-gzip"), Files.readAllBytes(tmp.resolve("boot.img")));
        TestFiles.sh("mkimage -q -A arm -O linux -T kernel -C gzip -a 0x80008000 -e 0x80008000 -n fuzz -d " + gz + " " + tmp.resolve("uImage"));
        write(out.resolve("file-uimage-gzip"), Files.readAllBytes(tmp.resolve("uImage")));
        // shaped: small recipes for large inputs (Shapes): the gzip seed 40 times as members
        // behind 15 MiB of 0xff, the kernel in 7 nested uImages, and at the end of 15 MiB of
        // zeros (gzip streams nested in gzip streams are the fuzzer's to reach: a seed's small
        // kernel compresses to less than a decoded stream must hold to be searched)
        byte[] gzipped = Files.readAllBytes(gz);
        write(out.resolve("shaped-40-gzip-members-after-ff"), concat(new byte[] {39, 0, 15, 1}, gzipped), (byte) 8);
        write(out.resolve("shaped-7-nested-uimages"), concat(new byte[] {0, 7, 0, 0}, armhf), (byte) 8);
        write(out.resolve("shaped-kernel-after-15MiB-zeros"), concat(new byte[] {0, 0, 15, 0}, armhf), (byte) 8);
        write(out.resolve("file-elf-core-4.20-armhf"), elfCore(armhf));
        write(out.resolve("memory-prel32-crcs"), SeedTables.prel32WithCrcs(), (byte) 1);
        write(out.resolve("memory-absolute-flags-be"), SeedTables.absoluteFlagsBigEndian(), (byte) 3);
        write(out.resolve("btf-every-kind-le"), BtfBuilder.everyKind(ByteOrder.LITTLE_ENDIAN), (byte) 4);
        write(out.resolve("btf-every-kind-be"), BtfBuilder.everyKind(ByteOrder.BIG_ENDIAN), (byte) 4);
    }

    /**
     * A memory dump as QEMU's dump-guest-memory writes one (ELF64 ET_CORE, a note, PT_LOAD
     * segments of physical memory): the kernel at physical 0, a page of other memory after it.
     */
    static byte[] elfCore(byte[] kernel) {
        int phnum = 3, phoff = 64, data = 64 + phnum * 56;
        long second = (kernel.length + 4095L) & ~4095L;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(data + 16 + kernel.length + 4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}).put(new byte[8]);
        b.putShort((short) 4).putShort((short) 40).putInt(1).putLong(0).putLong(phoff).putLong(0).putInt(0)
                .putShort((short) 64).putShort((short) 56).putShort((short) phnum).putShort((short) 0).putShort((short) 0).putShort((short) 0);
        // PT_NOTE (16 bytes of nothing), then the two memory segments
        b.putInt(4).putInt(0).putLong(data).putLong(0).putLong(0).putLong(16).putLong(16).putLong(0);
        b.putInt(1).putInt(0).putLong(data + 16).putLong(0).putLong(0).putLong(kernel.length).putLong(kernel.length).putLong(0);
        b.putInt(1).putInt(0).putLong(data + 16 + kernel.length).putLong(second).putLong(second).putLong(4096).putLong(4096).putLong(0);
        b.position(data + 16);
        b.put(kernel);
        return b.array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void write(Path f, byte[] data) throws IOException {
        write(f, data, (byte) 0);
    }

    private static void write(Path f, byte[] data, byte mode) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(data.length + 1);
        b.write(mode);
        b.write(data);
        Files.write(f, b.toByteArray());
        System.out.println(f + ": " + b.size() + " bytes");
    }
}
