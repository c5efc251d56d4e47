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
        write(out.resolve("memory-prel32-crcs"), SeedTables.prel32WithCrcs(), (byte) 1);
        write(out.resolve("memory-absolute-flags-be"), SeedTables.absoluteFlagsBigEndian(), (byte) 3);
        write(out.resolve("btf-every-kind-le"), BtfBuilder.everyKind(ByteOrder.LITTLE_ENDIAN), (byte) 4);
        write(out.resolve("btf-every-kind-be"), BtfBuilder.everyKind(ByteOrder.BIG_ENDIAN), (byte) 4);
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
