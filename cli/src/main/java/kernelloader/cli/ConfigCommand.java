package kernelloader.cli;

import java.util.concurrent.Callable;

import kernelloader.core.KernelModel;
import kernelloader.image.IkConfig;
import kernelloader.image.KernelFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code kallsyms config FILE}: the kernel's own .config (CONFIG_IKCONFIG), like extract-ikconfig. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Print the kernel's embedded .config (built with CONFIG_IKCONFIG).")
final class ConfigCommand implements Callable<Integer> {
    @CommandLine.Mixin
    KallsymsCli.KernelOptionsMixin opts;

    @Override
    public Integer call() throws Exception {
        KernelModel m = opts.read();
        String config = IkConfig.find(m.image());
        if (config == null) {
            throw new KernelFormatException(opts.file + ": no embedded .config (looked for the IKCFG_ST/IKCFG_ED blob;"
                    + " the kernel was built without CONFIG_IKCONFIG)");
        }
        System.out.print(config);
        System.out.flush();
        return 0;
    }
}
