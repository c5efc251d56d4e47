package kernelloader.cli;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import kernelloader.btf.Btf;
import kernelloader.btf.BtfKind;
import kernelloader.btf.BtfLocator;
import kernelloader.btf.BtfRawDump;
import kernelloader.btf.CHeaderWriter;
import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kallsyms btf FILE}: the kernel's BTF types as a C header (a vmlinux.h, as
 * {@code bpftool btf dump ... format c} writes it), or as bpftool's raw dump in text or JSON.
 */
@Command(name = "btf", mixinStandardHelpOptions = true,
        description = "Write the kernel's BTF types (CONFIG_DEBUG_INFO_BTF) as a C header, or with --raw/--json as bpftool's raw dump.")
final class BtfCommand implements Callable<Integer> {
    @Mixin
    KernelFileOptions opts;

    @Option(names = "--json", description = "bpftool -j btf dump's JSON: {\"types\":[{\"id\",\"kind\",\"name\",...}]}")
    boolean json;

    @Option(names = "--raw", description = "bpftool btf dump's text: [id] KIND 'name' ... with members indented")
    boolean raw;

    @Option(names = "--base-btf", paramLabel = "FILE",
            description = "the BTF this FILE's split BTF continues (a module's: the kernel image or its .BTF)")
    Path baseBtf;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (json && raw) throw new KernelFormatException("--json and --raw are two forms of the same dump: give one");
        Btf base = baseBtf == null ? null : Kernel.read(baseBtf, KernelOptions.DEFAULT).btf().get().btf();
        Kernel k = opts.read();
        BtfLocator.Found found = (base == null ? k.btf() : k.btfOver(base)).get();
        Btf btf = found.btf();
        Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        if (json) BtfRawDump.json(btf, out);
        else if (raw) BtfRawDump.text(btf, out);
        else CHeaderWriter.write(btf, out);
        out.flush();
        StringBuilder kinds = new StringBuilder();
        for (Map.Entry<BtfKind, Integer> e : btf.kindCounts().entrySet()) {
            kinds.append(kinds.length() == 0 ? "" : ", ").append(e.getValue()).append(' ').append(e.getKey());
        }
        spec.commandLine().getErr().printf("kallsyms: BTF at image offset 0x%x (%s), %d bytes, %s-endian, %d types: %s%n",
                found.offset(), found.how(), btf.byteSize(), btf.order() == ByteOrder.LITTLE_ENDIAN ? "little" : "big",
                btf.types().size(), kinds);
        return 0;
    }
}
