package kernelloader.cli;

import java.util.Iterator;
import java.util.List;

import kernelloader.kernel.KernelOptions;
import picocli.CommandLine.Option;

/**
 * The overrides a user may give instead of letting the core infer, parsed into its one
 * {@link KernelOptions} record by its one parser (the loader's options go through the same).
 * Picocli mixin.
 */
public class KernelOverrides {
    @Option(names = "--bits", paramLabel = "32|64", description = "word size, where the image cannot tell")
    String bits;

    @Option(names = "--base", paramLabel = "ADDR", description = "address of the image's first byte (hex), for 7.0+ raw images the image cannot place")
    String base;

    @Option(names = "--arch", paramLabel = "ARCH", completionCandidates = ArchNames.class,
            description = "architecture: ${COMPLETION-CANDIDATES}")
    String arch;

    @Option(names = "--file-offset", paramLabel = "OFF", description = "the kernel image starts this many bytes into FILE (hex); skips container detection before it")
    String fileOffset;

    @Option(names = "--table", paramLabel = "N", description = "use the N-th kallsyms table found (0 = first), for files holding several kernels")
    String table;

    @Option(names = "--symbols", paramLabel = "FILE",
            description = "a System.map or /proc/kallsyms listing of this kernel: labels an image without kallsyms; checked against one that has it")
    String symbols;

    /** The options as the core takes them; a bad value is a usage error naming the flag. */
    KernelOptions options() throws UsageError {
        try {
            return KernelOptions.DEFAULT.with(KernelOptions.Key.BITS, bits).with(KernelOptions.Key.BASE, base)
                    .with(KernelOptions.Key.ARCH, arch).with(KernelOptions.Key.FILE_OFFSET, fileOffset)
                    .with(KernelOptions.Key.TABLE, table).with(KernelOptions.Key.SYMBOLS, symbols);
        } catch (KernelOptions.BadValue e) {
            throw new UsageError("--" + e.key().name + ": " + e.reason());
        }
    }

    /** For --arch's help and shell completion. */
    static final class ArchNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of(KernelOptions.archNames().split(", ")).iterator();
        }
    }
}
