package kernelloader.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.kernel.Kernel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kallsyms unpack FILE OUT}: writes the innermost kernel image (like vmlinuz-decompressor). */
@Command(name = "unpack", mixinStandardHelpOptions = true,
        description = "Write the innermost kernel image (all containers and compressions peeled) to OUT (- for standard output).")
final class UnpackCommand implements Callable<Integer> {
    @Mixin
    KernelFileOptions opts;

    @Parameters(index = "1", paramLabel = "OUT")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Kernel k = opts.read();
        KernelImage img = k.image();
        if (img.layers().isEmpty() && !k.kallsyms().present()) {
            throw new KernelFormatException(k.source() + ": nothing to unpack: no container, compressed stream or kallsyms found");
        }
        Output.write(out, o -> o.write(img.data(), 0, img.length()));
        spec.commandLine().getErr().println("kallsyms: wrote " + img.length() + " bytes (" + img.describeLayers() + ") to " + out);
        return 0;
    }
}
