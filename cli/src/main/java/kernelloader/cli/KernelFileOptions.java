package kernelloader.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * FILE and the overrides ({@link KernelOverrides}) every command that reads one kernel takes.
 * Picocli mixin.
 */
public class KernelFileOptions {
    @Parameters(index = "0", paramLabel = "FILE", description = "kernel file: Image, zImage, bzImage, vmlinux, vmlinuz, boot.img, dump, ...; - reads standard input")
    Path file;

    @Mixin
    KernelOverrides overrides;

    /** The kernel in FILE (standard input for "-"). */
    Kernel read() throws IOException, KernelFormatException {
        return read(true);
    }

    /** The same, with or without RELATIVE relocations applied to what the command writes. */
    Kernel read(boolean relocations) throws IOException, KernelFormatException {
        KernelOptions o = overrides.options().withRelocations(relocations);
        if (!isStdin(file)) return Kernel.read(file, o);
        byte[] data = readStdin();
        return Kernel.read("-", data, data.length, o);
    }

    static boolean isStdin(Path p) {
        return p.toString().equals("-");
    }

    /** Standard input, whole, up to the size of the largest kernel file. */
    static byte[] readStdin() throws IOException, KernelFormatException {
        InputStream in = System.in;
        byte[] data = in.readNBytes((int) Kernel.MAX_FILE);
        if (in.read() >= 0) throw new KernelFormatException("-: standard input is larger than any kernel image (limit 2 GiB)");
        return data;
    }
}
