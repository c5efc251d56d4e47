package kernelloader;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return bean.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    public static List<String> listing(kernelloader.kallsyms.KallsymsTable t) throws IOException {
        StringBuilder sb = new StringBuilder();
        t.writeProcKallsyms(sb);
        return new ArrayList<>(List.of(sb.toString().split("\n")));
    }
}
