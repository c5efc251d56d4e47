package kernelloader.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.Reader;
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

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;

/**
 * Real kernels from outside Debian (phones of 2010-2016, routers, Raspberry Pis, old x86-64
 * distributions, kernels built without kallsyms), each with what its builder left beside it: a
 * System.map, a Module.symvers. One directory per kernel under {@code kernels.outside} (default
 * ../shared/data/kernels-outside-debian), each with a {@code kernel.properties}:
 * <pre>
 *   image=zImage             the file as found (required)
 *   map=System.map           nm's list of the same build: every listed symbol at its address
 *   symvers=Module.symvers   the build's Module.symvers: our vmlinux lines equal
 *   symbols=kallsyms|exports where the table must come from (exports: a kernel without kallsyms)
 *   exports=4606             how many exports __ksymtab must give
 *   release=3.0.8            the banner's release
 *   listing=expected.txt     the exact /proc/kallsyms listing `list` must print
 * </pre>
 * The same form holds the tables built by each era's real scripts/kallsyms.c (2.6.32 to 6.1,
 * assembled by Debian's cross binutils into images with the era's padding: {@code image} an
 * xz-compressed ELF or raw binary, {@code listing} what that era's kernel prints), under
 * ../shared/data/kallsyms-eras; {@code kernels.outside} may name several directories,
 * comma-separated.
 * The kernels are GPL binaries from public repositories (each directory's SOURCE.txt says
 * which); they are not in this repository and not in Debian's archive, so the test runs where
 * that directory exists.
 */
@Tag("corpus")
class OutsideDebianTest {
    static List<Path> dirs() {
        Path shared = Shared.data();
        String given = System.getProperty("kernels.outside",
                shared.resolve("kernels-outside-debian") + "," + shared.resolve("kallsyms-eras"));
        List<Path> out = new ArrayList<>();
        for (String d : given.split(",")) if (!d.isBlank()) out.add(Path.of(d.trim()));
        return out;
    }

    /** Every case directory (one holding a kernel.properties) under the directories, by path. */
    static Stream<String> kernels() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path d : dirs()) {
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> s = Files.walk(d, 4)) {
                s.filter(p -> Files.isRegularFile(p.resolve("kernel.properties"))).map(Path::toString).sorted().forEach(found::add);
            }
        }
        if (found.isEmpty()) return Stream.of("(none: " + dirs() + " hold no kernel.properties)");
        return found.stream();
    }

    private static Properties manifest(Path k) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(k.resolve("kernel.properties"))) {
            p.load(r);
        }
        return p;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void readsExactlyOrRefuses(String name) throws Exception {
        assumeTrue(!name.startsWith("(none"), "no kernels from outside Debian here: " + name
                + " (they come through ../shared/data; set -Dkernels.outside=DIR to run on a copy)");
        Path k = Path.of(name);
        Properties m = manifest(k);
        Kernel kernel = Kernel.read(k.resolve(m.getProperty("image")), KernelOptions.DEFAULT);
        KallsymsTable t = kernel.kallsyms().get();
        assertFalse(kernel.verification().get().refused(), kernel.verification().get().checks().toString());
        assertNotEquals("weak", kernel.verification().get().confidence(), kernel.verification().get().checks().toString());
        String from = m.getProperty("symbols", "kallsyms");
        assertEquals(from.equals("exports") ? KallsymsTable.Origin.EXPORTS : KallsymsTable.Origin.KALLSYMS, t.origin());
        if (m.containsKey("release")) assertEquals(m.getProperty("release"), kernel.version().get().release());
        if (m.containsKey("exports")) assertEquals(Integer.parseInt(m.getProperty("exports")), kernel.exports().get().exports().size());
        if (m.containsKey("map")) {
            Map<String, Set<Long>> map = new HashMap<>();
            long mask = t.bits() == 32 ? 0xffffffffL : -1L;
            for (String l : Files.readAllLines(k.resolve(m.getProperty("map")))) {
                String[] f = l.trim().split("\\s+");
                if (f.length == 3) map.computeIfAbsent(f[2], x -> new HashSet<>()).add(Long.parseUnsignedLong(f[0], 16) & mask);
            }
            int common = 0;
            List<String> wrong = new ArrayList<>();
            for (int i = 0; i < t.size(); i++) {
                Set<Long> at = map.get(t.name(i));
                if (at == null) continue;
                common++;
                if (!at.contains(t.address(i)) && wrong.size() < 5) wrong.add(String.format("%x %s", t.address(i), t.name(i)));
            }
            assertTrue(common > t.size() * 9L / 10, name + ": only " + common + " of " + t.size() + " listed names are in the map");
            assertTrue(wrong.isEmpty(), name + ": not at the map's address: " + wrong);
        }
        if (m.containsKey("listing")) {
            StringBuilder sb = new StringBuilder();
            t.writeProcKallsyms(sb);
            assertEquals(Files.readString(k.resolve(m.getProperty("listing"))), sb.toString(), name + ": the listing");
        }
        if (m.containsKey("symvers")) {
            Set<String> want = new HashSet<>();
            for (String l : Files.readAllLines(k.resolve(m.getProperty("symvers")))) if (l.contains("\tvmlinux\t")) want.add(l.strip());
            StringBuilder sb = new StringBuilder();
            KernelOutputs.moduleSymvers(kernel, sb);
            Set<String> got = new HashSet<>();
            for (String l : sb.toString().split("\n")) if (!l.isBlank()) got.add(l.strip());
            assertEquals(want, got, name + ": Module.symvers");
        }
    }
}
