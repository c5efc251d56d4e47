package kernelloader.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.image.KernelVersion;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.KernelExport;
import kernelloader.ksymtab.ModuleSymvers;
import kernelloader.layout.KernelLayout;

/**
 * Exports of every fetched Debian kernel, read as shipped with no parameters, against the
 * vmlinux lines of Debian's own Module.symvers (linux-headers): the same lines, order aside —
 * symbols, CRCs, export kinds, namespaces, columns. Each export's value is nm's address.
 */
@Tag("corpus")
class DebianSymversTest {
    static List<Corpus.Kernel> kernels() {
        return Corpus.kernels();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void moduleSymversEqualsDebians(Corpus.Kernel k) throws Exception {
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        KernelLayout layout = m.layout().get();
        KernelVersion version = m.version().orNull();
        ExportTable t = m.exports().get();

        List<String> ours = ModuleSymvers.lines(t, ModuleSymvers.Columns.of(version));
        List<String> debian = Files.readAllLines(k.dir.resolve("Module.symvers"));
        assertTrue(debian.size() > 5000, "ground truth has " + debian.size() + " lines");
        Set<String> missing = new TreeSet<>(debian);
        ours.forEach(missing::remove);
        Set<String> extra = new TreeSet<>(ours);
        debian.forEach(extra::remove);
        assertEquals(debian.size(), ours.size(), "number of exports; missing e.g. " + first(missing) + ", extra e.g. " + first(extra));
        assertTrue(missing.isEmpty() && extra.isEmpty(), missing.size() + " lines differ, e.g. Debian "
                + first(missing) + " / ours " + first(extra));

        // where the value is set (s390x 6.1 leaves some data exports to relocations we do not apply), it is nm's address
        Map<String, Set<Long>> nm = k.allAddresses();
        int unset = 0;
        for (KernelExport e : t.exports()) {
            if (e.value() == 0) {
                unset++;
                continue;
            }
            assertTrue(nm.getOrDefault(e.name(), Set.of()).contains(e.value()),
                    e.name() + " = 0x" + Long.toHexString(e.value()) + ", nm says " + nm.get(e.name()));
        }
        assertTrue(unset * 20 < t.exports().size(), unset + " exports without a value");
    }

    private static String first(Set<String> s) {
        return s.isEmpty() ? "-" : s.iterator().next();
    }
}
