package kernelloader.corpus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The real Debian kernels fetched by ../shared/tools/fetch-debian-kernels.sh, with the ground
 * truth from their -dbg packages. .ci/run fetches the CI set before the tests run.
 */
public final class Corpus {
    /** The script's default set: every era, word size, byte order and container Debian has. */
    public static final List<String> CI_SET = List.of(
            "bullseye-armhf-armmp", "bookworm-i386-686", "bookworm-arm64-arm64", "bookworm-s390x-s390x",
            "bookworm-mips64el-5kc-malta", "trixie-amd64-amd64", "sid-amd64-amd64", "sid-arm64-arm64",
            "sid-riscv64-riscv64", "sid-loong64-loong64");

    private Corpus() {}

    public static Path dir() {
        String p = System.getProperty("kernel.corpus", System.getenv().getOrDefault("KERNEL_CORPUS",
                System.getProperty("user.home") + "/.cache/kernel-corpus"));
        return Path.of(p);
    }

    /** Every fetched kernel (a directory with meta.env), sorted by id. */
    public static List<Kernel> kernels() {
        if (!Files.isDirectory(dir())) return List.of();
        try (Stream<Path> s = Files.list(dir())) {
            return s.filter(d -> Files.exists(d.resolve("meta.env"))).sorted().map(Kernel::new).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Kernel kernel(String id) {
        Path d = dir().resolve(id);
        if (!Files.exists(d.resolve("meta.env"))) {
            throw new IllegalStateException("corpus kernel " + id + " is missing under " + dir()
                    + ": run ../shared/tools/fetch-debian-kernels.sh (.ci/run does)");
        }
        return new Kernel(d);
    }

    /** One corpus kernel. */
    public static final class Kernel {
        public final Path dir;
        public final String id;
        private final Properties meta = new Properties();

        Kernel(Path dir) {
            this.dir = dir;
            this.id = dir.getFileName().toString();
            try (var r = Files.newBufferedReader(dir.resolve("meta.env"))) {
                meta.load(r);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public Path image() { return dir.resolve("image"); }
        public String debianArch() { return meta.getProperty("debian_arch"); }

        public int bits() {
            return switch (debianArch()) {
                case "i386", "armhf", "armel", "mipsel" -> 32;
                default -> 64;
            };
        }

        public boolean bigEndian() { return debianArch().equals("s390x"); }

        /**
         * nm's address as the kernel itself has it: the -dbg vmlinux of some 32-bit kernels is
         * an ELF64 (Debian's mipsel 6.1: nm prints ffffffff80100400 for the 80100400 that
         * /proc/kallsyms prints), so a 32-bit kernel's addresses are taken modulo 2^32.
         */
        private long address(String hex) {
            long a = Long.parseUnsignedLong(hex, 16);
            return bits() == 32 ? a & 0xffffffffL : a;
        }

        /** Ground truth: (address, name) -> nm type letters seen with that pair. */
        public Map<String, String> groundTruth() throws IOException {
            Map<String, String> m = new HashMap<>(1 << 18);
            try (var lines = Files.lines(dir.resolve("symbols.nm"))) {
                lines.forEach(l -> {
                    String[] f = l.split(" ");
                    if (f.length < 3 || f[0].isEmpty()) return;
                    String key = Long.toHexString(address(f[0])) + " " + f[2];
                    m.merge(key, f[1], String::concat);
                });
            }
            return m;
        }

        /** nm's address of each name (the first, for names defined more than once). */
        public Map<String, Long> firstAddresses() throws IOException {
            Map<String, Long> m = new HashMap<>(1 << 18);
            try (var lines = Files.lines(dir.resolve("symbols.nm"))) {
                lines.forEach(l -> {
                    String[] f = l.split(" ");
                    if (f.length == 3 && !f[0].isEmpty()) m.putIfAbsent(f[2], address(f[0]));
                });
            }
            return m;
        }

        /** Every nm address of each name (names defined more than once have several). */
        public Map<String, Set<Long>> allAddresses() throws IOException {
            Map<String, Set<Long>> m = new HashMap<>(1 << 18);
            try (var lines = Files.lines(dir.resolve("symbols.nm"))) {
                lines.forEach(l -> {
                    String[] f = l.split(" ");
                    if (f.length == 3 && !f[0].isEmpty()) m.computeIfAbsent(f[2], x -> new HashSet<>()).add(address(f[0]));
                });
            }
            return m;
        }

        @Override
        public String toString() { return id; }
    }

    public static List<String> missingCiKernels() {
        List<String> missing = new ArrayList<>();
        for (String id : CI_SET) if (!Files.exists(dir().resolve(id).resolve("meta.env"))) missing.add(id);
        return missing;
    }
}
