package kernelloader.fuzz;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import kernelloader.btf.BtfLocator;
import kernelloader.image.KernelImage;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/**
 * Every fuzz seed and every input the fuzzer ever found a problem with
 * (src/test/resources/fuzz/regressions, one file per finding, named after what it broke) goes
 * through the fuzz target again: each must end in a result or our own one-line error.
 */
class FuzzRegressionTest {
    static final Path FUZZ = Path.of("src/test/resources/fuzz");

    static List<Path> inputs() throws IOException {
        try (Stream<Path> s = Stream.concat(Files.list(FUZZ.resolve("seeds")), Files.list(FUZZ.resolve("regressions")))) {
            return s.filter(Files::isRegularFile).filter(p -> !p.toString().endsWith(".md")).sorted().toList();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inputs")
    @Timeout(120)  // a hang guard, far above the fuzzer's per-input timeout of 30 s
    void endsInAResultOrOurOwnError(Path input) throws IOException {
        byte[] data = Files.readAllBytes(input);
        assertDoesNotThrow(() -> PipelineFuzzTarget.fuzzerTestOneInput(data));
    }

    /** The fuzzer starts from valid inputs: every file seed holds a kallsyms table, every memory seed an export table, every BTF seed a blob. */
    @Test
    void theSeedsAreValidInputs() throws Exception {
        List<Path> seeds = inputs().stream().filter(p -> p.startsWith(FUZZ.resolve("seeds"))).toList();
        assertTrue(seeds.size() >= 18, "seeds: " + seeds);
        for (Path p : seeds) {
            byte[] in = Files.readAllBytes(p);
            byte[] data = Arrays.copyOfRange(in, 1, in.length);
            if ((in[0] & 0x0f) == 8) {
                byte[] file = Shapes.build(data);
                assertTrue(file.length > data.length, p.toString());
                assertTrue(Kernel.read(p.toString(), file, file.length, KernelOptions.DEFAULT).kallsyms().get().size() == 700, p.toString());
            } else if ((in[0] & 5) == 4) {
                assertNotNull(BtfLocator.find(new KernelImage(data, data.length, List.of(), null),
                        null, null).found(), p.toString());
            } else if ((in[0] & 1) == 0) {
                assertTrue(Kernel.read(p.toString(), data, data.length, KernelOptions.DEFAULT).kallsyms().get().size() == 700, p.toString());
            } else {
                assertDoesNotThrow(() -> PipelineFuzzTarget.exports(data, (in[0] & 2) != 0
                        ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN), p.toString());
            }
        }
    }
}
