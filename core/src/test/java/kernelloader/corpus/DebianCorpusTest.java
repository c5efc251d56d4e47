package kernelloader.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kallsyms.AddressEncoding;
import kernelloader.kallsyms.KallsymsTable;

/**
 * Every fetched Debian kernel, read exactly as Debian ships it, must list every kallsyms symbol
 * with the address, name and type that nm reads from the matching -dbg vmlinux.
 */
@Tag("corpus")
class DebianCorpusTest {

    static List<Corpus.Kernel> kernels() {
        return Corpus.kernels();
    }

    @Test
    void theCiSetIsPresent() {
        assertEquals(List.of(), Corpus.missingCiKernels(),
                "fetch the corpus first: ../shared/tools/fetch-debian-kernels.sh (.ci/run does)");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void listingMatchesGroundTruth(Corpus.Kernel k) throws Exception {
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        KallsymsTable t = m.kallsyms().get();
        assertEquals(k.bits(), t.bits(), "word size");
        assertEquals(k.bigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN, t.order(), "byte order");
        assertTrue(t.size() > 10000, "a distribution kernel has tens of thousands of symbols, got " + t.size());
        assertTrue(m.banner().orNull() != null && m.banner().orNull().startsWith("Linux version "), "banner: " + m.banner().orNull());

        Map<String, String> truth = k.groundTruth();
        boolean percpuAbsolute = t.layout().encoding() == AddressEncoding.ABSOLUTE_PERCPU;
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            String key = Long.toHexString(t.address(i)) + " " + t.name(i);
            String types = truth.get(key);
            char type = t.type(i);
            if (types == null) {
                wrong.add("not in nm: " + key + " " + type);
            } else if (types.indexOf(type) < 0 && !(percpuAbsolute && type == 'A')) {
                wrong.add("type " + type + " but nm says " + types + ": " + key);
            }
            if (wrong.size() >= 10) break;
        }
        if (!wrong.isEmpty()) fail(k.id + ": " + wrong);
    }
}
