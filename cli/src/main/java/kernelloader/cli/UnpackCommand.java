package kernelloader.cli;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import kernelloader.core.KernelReader;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Parameters;

/** {@code kallsyms unpack FILE OUT}: writes the innermost kernel image (like vmlinuz-decompressor). */
@Command(name = "unpack", mixinStandardHelpOptions = true,
        description = "Write the innermost kernel image (all containers and compressions peeled) to OUT.")
final class UnpackCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE")
    Path file;

    @Parameters(index = "1", paramLabel = "OUT")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(file)) throw new KernelFormatException(file + ": no such file");
        byte[] data = Files.readAllBytes(file);
        KernelImage img = KernelReader.innermost(data, data.length);
        try (OutputStream o = Files.newOutputStream(out)) {
            o.write(img.data(), 0, img.length());
        }
        spec.commandLine().getErr().println("kallsyms: wrote " + img.length() + " bytes (" + img.describeLayers() + ") to " + out);
        return 0;
    }
}
