package kernelloader.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kallsyms config FILE}: the kernel's own .config (CONFIG_IKCONFIG), like extract-ikconfig. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Print the kernel's embedded .config (built with CONFIG_IKCONFIG).")
final class ConfigCommand implements Callable<Integer> {
    @Mixin
    KernelFileOptions opts;

    @Override
    public Integer call() throws Exception {
        System.out.print(opts.read().config().get());
        System.out.flush();
        return 0;
    }
}
