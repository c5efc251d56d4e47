package kernelloader;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import com.sun.management.ThreadMXBean;

import kernelloader.corpus.Corpus;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOutputs;

/** Helpers for tests that run Debian's real tools and measure what the core allocates. */
public final class TestFiles {
    private TestFiles() {}

    public static Path tempDir(String prefix) throws IOException {
        Path base = Path.of(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(base);
        return Files.createTempDirectory(base, prefix);
    }

    /** Runs a shell pipeline; fails with the tool's own words if it is missing or fails. */
    public static void sh(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", "set -o pipefail; " + command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("command failed (install Debian's tools with .ci/run): " + command + "\n" + out);
        }
    }

    /** Bytes allocated by the current thread so far (HotSpot's ThreadMXBean). */
    public static long allocatedBytes() {
        var bean = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        return bean.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /** Writes the ELF `./kallsyms elf` writes for {@code k} (relocations and .BTF included). */
    public static Path writeElf(Kernel k, Path out) throws Exception {
        try (var os = Files.newOutputStream(out)) {
            KernelOutputs.elf(k, os);
        }
        return out;
    }

    public static List<String> listing(KallsymsTable t) throws IOException {
        StringBuilder sb = new StringBuilder();
        t.writeProcKallsyms(sb);
        return new ArrayList<>(List.of(sb.toString().split("\n")));
    }

    /**
     * A flash dump holding two kernels, as a phone's boot and recovery partitions do: 1 MiB of
     * random bytes, the gzip'd bookworm arm64 Image, random bytes up to a 1 MiB boundary, then
     * the sid arm64 Image as shipped. The raw one is found first (the file is searched as it is
     * before any stream in it is decoded), the gzip'd one second.
     */
    public static Path twoKernelDump() throws IOException, InterruptedException {
        Path dir = tempDir("two-kernels");
        Path gz = dir.resolve("bookworm.gz");
        sh("gzip -n -c " + Corpus.kernel("bookworm-arm64-arm64").image() + " > " + gz);
        Random r = new Random(5);
        byte[] head = new byte[1 << 20];
        r.nextBytes(head);
        byte[] packed = Files.readAllBytes(gz);
        int used = head.length + packed.length;
        byte[] pad = new byte[(1 << 20) - used % (1 << 20)];
        r.nextBytes(pad);
        Path dump = dir.resolve("flash.bin");
        try (var out = Files.newOutputStream(dump)) {
            out.write(head);
            out.write(packed);
            out.write(pad);
            out.write(Files.readAllBytes(Corpus.kernel("sid-arm64-arm64").image()));
        }
        Files.delete(gz);
        return dump;
    }
}
