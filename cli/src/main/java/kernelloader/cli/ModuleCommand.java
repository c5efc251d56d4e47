package kernelloader.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.module.KernelModuleFile;
import kernelloader.module.LinkedModuleElf;
import kernelloader.module.LoadedModules;
import kernelloader.module.SysModuleSections;
import kernelloader.module.ModuleLayout;
import kernelloader.module.ModuleLinker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kallsyms module KO --kernel FILE [OUT.elf]}: a module linked against its kernel, as the kernel's loader links it. */
@Command(name = "module", mixinStandardHelpOptions = true,
        description = "Link a kernel module (.ko, .ko.xz, .ko.zst) against its kernel as the kernel's loader does: sections laid out"
                + " as layout_sections does (or where --sections puts them), every import resolved to the kernel's exports (and those"
                + " of --with modules), CRCs, GPL-only and namespaces checked, relocations applied; OUT gets it as an ELF at those"
                + " addresses. x86-64, arm64, 32-bit arm, riscv64, ppc64 (ELFv2), s390x and MIPS (64-bit, RELA) modules.")
final class ModuleCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "KO")
    Path ko;

    @Parameters(index = "1", paramLabel = "OUT", arity = "0..1")
    Path out;

    @Option(names = "--kernel", required = true, paramLabel = "FILE",
            description = "the kernel the module is loaded into: any file `list` reads, a memory dump for its runtime addresses")
    Path kernel;

    @Option(names = "--with", paramLabel = "KO", description = "a module loaded before it, whose exports it may use (repeat; loaded in the order their depends= needs)")
    List<Path> with = new ArrayList<>();

    @Option(names = "--sections", paramLabel = "FILE|DIR",
            description = "section addresses: a copy of /sys/module/NAME/sections, or lines 'NAME ADDR' (grep . /sys/module/NAME/sections/* too)")
    Path sections;

    @Option(names = "--base", paramLabel = "ADDR",
            description = "where its memory starts (hex; default: x86-64's module area 0xffffffffc0000000, arm64's 128 MiB below the kernel)")
    String base;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        Kernel k = Kernel.read(kernel, KernelOptions.DEFAULT);
        LoadedModules modules = LoadedModules.into(k);
        KernelModuleFile m = KernelModuleFile.read(ko.toString(), Files.readAllBytes(ko));
        List<KernelModuleFile> before = new ArrayList<>();
        for (Path w : with) before.add(KernelModuleFile.read(w.toString(), Files.readAllBytes(w)));
        // the --with modules in an order the kernel accepts (each after what its depends= names)
        Long at = base != null ? KernelOptions.parseHex(base) : null;
        for (KernelModuleFile d : LoadedModules.inLoadOrder(before)) {
            modules.load(d, Map.of(), at);
            at = null;
        }
        Map<String, Long> given = sections == null ? Map.of() : SysModuleSections.read(sections);
        ModuleLinker.Linked l = modules.load(m, given, at);
        ModuleLayout layout = l.layout();
        if (out != null) Output.write(out, o -> LinkedModuleElf.write(l, o));
        Map<String, Integer> from = new LinkedHashMap<>();
        for (ModuleLinker.Import im : l.imports()) from.merge(im.from(), 1, Integer::sum);
        err.printf("kallsyms: %s (%s%s): %d sections at 0x%x..., %d imports %s, %d relocations %s%s%n", m.name(),
                m.modinfo().get("vermagic") == null ? "no vermagic" : m.modinfo().get("vermagic"),
                m.compression() == null ? "" : ", " + m.compression(), layout.sections().size(), layout.sections().isEmpty() ? 0
                        : layout.sections().get(0).address(), l.imports().size(), from, l.relocations(), l.relocationCounts(),
                out == null ? "" : "; wrote " + out);
        // what .modinfo says, as modinfo(8) shows the fields that decide loading
        StringBuilder info = new StringBuilder();
        for (String key : List.of("license", "depends", "import_ns", "intree", "retpoline", "srcversion")) {
            List<String> v = m.modinfo().all(key);
            if (!v.isEmpty()) info.append(info.length() == 0 ? "" : ", ").append(key).append('=').append(String.join(" ", v));
        }
        err.printf("kallsyms: %s .modinfo: %s; __versions: %d CRCs%n", m.name(), info.length() == 0 ? "(none)" : info, m.versions().size());
        if (!l.unresolved().isEmpty()) {
            List<String> u = l.unresolved();
            err.printf("kallsyms: %d unknown symbols (%s%s): the kernel would refuse the module; their relocations are left 0%s%n", u.size(),
                    String.join(", ", u.subList(0, Math.min(5, u.size()))), u.size() > 5 ? ", ..." : "",
                    m.modinfo().depends().isEmpty() ? "" : "; its depends= names " + String.join(", ", m.modinfo().depends())
                            + ": give them with --with");
        }
        for (String r : l.refusals()) err.println("kallsyms: the kernel would refuse the module: " + r);
        return 0;
    }
}
