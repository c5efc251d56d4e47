package kernelloader.image;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import kernelloader.TestFiles;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.corpus.Corpus;

/**
 * Files that are not (whole) kernels: each must end in one clear line saying what was tried,
 * within seconds (the timeout here guards against hangs; it is not a benchmark) and without
 * allocating more than a small multiple of the file.
 */
class BadInputTest {

    /** Reads and expects our error; returns its message after checking its form and cost. */
    private static String failure(String name, byte[] data, long allocationBound) {
        return assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            long before = TestFiles.allocatedBytes();
            KernelFormatException e = assertThrows(KernelFormatException.class,
                    () -> Kernel.read(name, data, data.length, KernelOptions.DEFAULT).kallsyms().get());
            long allocated = TestFiles.allocatedBytes() - before;
            String msg = e.getMessage();
            assertFalse(msg.contains("\n"), "one line: " + msg);
            assertTrue(msg.startsWith(name + ": "), msg);
            assertTrue(allocated < allocationBound, "allocated " + allocated + " bytes for a " + data.length + "-byte file");
            return msg;
        });
    }

    /** The bytes a shell pipeline of Debian's tools writes. */
    private static byte[] made(String pipeline) throws Exception {
        Path f = TestFiles.tempDir("made").resolve("out");
        TestFiles.sh(pipeline + " > " + f);
        return Files.readAllBytes(f);
    }

    private static byte[] zImage() throws Exception {
        return Files.readAllBytes(Corpus.kernel("bullseye-armhf-armmp").image());
    }

    @Test
    void randomBytes() {
        byte[] data = new byte[8 << 20];
        new Random(42).nextBytes(data);
        // what the thread allocates depends on what the JIT has compiled by then (escape analysis
        // removes short-lived objects only in compiled code): 10 MB to 170 MB measured, in turn
        // with other tests in one JVM; the bound is what a leak or a whole-file copy per
        // candidate would exceed
        String msg = failure("random.bin", data, 256L << 20);
        assertTrue(msg.contains("no kallsyms table found"), msg);
        assertTrue(msg.contains("CONFIG_KALLSYMS"), msg);
    }

    @Test
    void emptyAndTinyFiles() {
        failure("empty", new byte[0], 16L << 20);
        failure("tiny", new byte[] {0x1f, (byte) 0x8b, 8, 0}, 16L << 20);
    }

    @Test

    @Tag("corpus")
    void kernelWithoutKallsymsOrExports() throws Exception {
        // the real armhf kernel, with its token table and its __ksymtab wiped: a kernel built
        // without KALLSYMS or MODULES (SymbolSourcesTest: with its __ksymtab it falls back to it)
        Kernel m = Kernel.read(Corpus.kernel("bullseye-armhf-armmp").image(), KernelOptions.DEFAULT);
        byte[] img = Arrays.copyOf(m.image().data(), m.image().length());
        int tt = m.kallsyms().get().layout().tokenTable();
        Arrays.fill(img, tt, m.kallsyms().get().layout().tokenIndex() + 512, (byte) 0);
        var exports = m.exports().get();
        int at = (int) m.layout().get().fileOffsetOf(exports.ksymtabAddress());
        Arrays.fill(img, at, at + exports.exports().size() * exports.format().entrySize(), (byte) 0);
        String msg = failure("nokallsyms.img", img, 4L * img.length + (256L << 20));
        assertTrue(msg.contains("no kallsyms table found"), msg);
        assertTrue(msg.contains("no export table to fall back on"), msg);
    }

    @Test

    @Tag("corpus")
    void truncatedKernel() throws Exception {
        byte[] z = zImage();
        byte[] cut = Arrays.copyOf(z, z.length * 3 / 10);
        String msg = failure("truncated.zImage", cut, 64L * cut.length + (256L << 20));
        assertTrue(msg.matches(".*xz stream at PE → zImage \\+ 0x\\p{XDigit}+: \\d+ bytes \\(EOFException.*"), "names the stream it tried: " + msg);
    }

    @Test

    @Tag("corpus")
    void corruptedCompressedStream() throws Exception {
        byte[] z = zImage();
        Random r = new Random(7);
        for (int i = 0; i < 4096; i++) z[z.length / 3 + i] = (byte) r.nextInt(256);
        String msg = failure("corrupt.zImage", z, 64L * z.length + (256L << 20));
        assertTrue(msg.matches(".*xz stream at PE → zImage \\+ 0x\\p{XDigit}+: \\d+ bytes \\(CorruptedInputException.*"), msg);
    }

    @Test
    void lzmaHeaderClaimingAGigabyteDictionary() {
        // "5d 00 00 00 40" = lzma alone with a 1 GiB dictionary, size unknown, the range coder's 0, then garbage
        byte[] data = new byte[1 << 20];
        new Random(3).nextBytes(data);
        byte[] header = {0x5d, 0, 0, 0, 0x40, -1, -1, -1, -1, -1, -1, -1, -1, 0};
        for (int at = 0; at < data.length - 64; at += 64 * 1024) System.arraycopy(header, 0, data, at, header.length);
        String msg = failure("hugedict.lzma", data, 256L << 20);
        assertTrue(msg.contains("lzma stream at raw + 0x0"), msg);
    }

    @Test
    void decompressionBombStopsAtTheCap() throws Exception {
        byte[] data = made("head -c 3G /dev/zero | zstd -3 -q -c");
        // stopped by the ratio of output to input once past its first 32 MiB, not at the cap
        // its place in the file allows (1.5 GiB): the chunks and the joined output, 64 MiB
        String msg = failure("bomb.zst", data, 256L << 20);
        assertTrue(msg.contains("zstd stream at raw + 0x0: 33554432 bytes (output of 33554432 bytes from "), msg);
        assertTrue(msg.contains("a decompression bomb"), msg);
    }

    @Test
    void aSearchThatGivesUpSaysHowFarItGot() throws Exception {
        // 120 small gzip members: the search tries 96 streams, then says where it stopped
        byte[] data = made("for i in $(seq 120); do head -c 1000 /dev/urandom | gzip -c; done");
        String msg = failure("members.gz", data, 256L << 20);
        assertTrue(msg.matches(".*; stopped: 96 streams tried, at raw \\+ 0x[0-9a-f]+ of 0x" + Integer.toHexString(data.length) + "; .*"), msg);
    }

    @Test
    void manyBombsCostTheirRatioEach() throws Exception {
        // 40 gzip members of 96 MiB of zeros, one after another (430 KiB each): each is decoded
        // to 32 MiB and searched, no more
        byte[] data = made("for i in $(seq 40); do head -c 96M /dev/zero | gzip -1 -c; done");
        String msg = failure("members.gz", data, 4L << 30);
        assertTrue(msg.contains("gzip stream at raw + 0x0: 33554432 bytes (output of 33554432 bytes from "), msg);
    }
}
