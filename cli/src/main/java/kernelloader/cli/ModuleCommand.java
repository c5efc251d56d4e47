package kernelloader.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.ksymtab.ExportTable;
import kernelloader.module.KernelModuleFile;
import kernelloader.module.LinkedModuleElf;
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
                + " addresses. x86-64 and arm64 modules for now.")
final class ModuleCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "KO")
    Path ko;

    @Parameters(index = "1", paramLabel = "OUT", arity = "0..1")
    Path out;

    @Option(names = "--kernel", required = true, paramLabel = "FILE",
            description = "the kernel the module is loaded into: any file `list` reads, a memory dump for its runtime addresses")
    Path kernel;

    @Option(names = "--with", paramLabel = "KO", description = "a module loaded before it, whose exports it may use (repeat, in load order)")
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
        ExportTable exports = k.exports().get();
        ModuleLinker.Exports available = new ModuleLinker.Exports().add("vmlinux", exports.exports(), exports.hasCrcs());
        KernelModuleFile m = KernelModuleFile.read(ko.toString(), Files.readAllBytes(ko));
        // where modules go: x86-64's module area; arm64's 128 MiB below the kernel (where the
        // kernel puts them when it can, so that calls reach it without PLTs)
        Long text = k.kallsyms().get().addressOf("_text");
        long next = base != null ? KernelOptions.parseHex(base)
                : m.elf().machine() == 183 && text != null ? (text - (128L << 20)) & ~0xfffL : 0xffffffffc0000000L;
        // its per-cpu data: in the kernel's per-cpu area (the kernel allocates it at load; /sys/module does not say where)
        Long pcpu = k.kallsyms().get().addressOf("__per_cpu_start");
        long perCpu = pcpu == null ? 0 : pcpu;
        for (Path w : with) {
            KernelModuleFile d = KernelModuleFile.read(w.toString(), Files.readAllBytes(w));
            ModuleLayout dl = ModuleLayout.of(d, next, perCpu, Map.of());
            ModuleLinker.Linked linked = ModuleLinker.link(d, dl, available);
            available.add(d.name(), linked.exports(), true);
            for (long[] mem : dl.memory().values()) next = Math.max(next, (mem[0] + mem[1] + 0xfff) & ~0xfffL);
        }
        Map<String, Long> given = sections == null ? Map.of() : readSections(sections);
        ModuleLayout layout = ModuleLayout.of(m, next, perCpu, given);
        ModuleLinker.Linked l = ModuleLinker.link(m, layout, available);
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
                            + ": give them with --with, in load order");
        }
        for (String r : l.refusals()) err.println("kallsyms: the kernel would refuse the module: " + r);
        return 0;
    }

    /** /sys/module/NAME/sections as a directory (a file per section), or text: "NAME ADDR", "PATH/NAME:ADDR", one per line. */
    static Map<String, Long> readSections(Path p) throws Exception {
        Map<String, Long> m = new LinkedHashMap<>();
        if (Files.isDirectory(p)) {
            try (var files = Files.list(p)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    m.put(f.getFileName().toString(), KernelOptions.parseHex(Files.readString(f).trim()));
                }
            }
            return m;
        }
        for (String line : Files.readAllLines(p)) {
            String s = line.trim();
            if (s.isEmpty()) continue;
            int colon = s.lastIndexOf(':');
            String name, addr;
            if (colon > 0 && !s.contains(" ")) {
                name = s.substring(0, colon).replaceAll(".*/", "");
                addr = s.substring(colon + 1);
            } else {
                String[] f = s.split("\\s+");
                if (f.length < 2) throw new KernelFormatException(p + ": '" + line + "' is not 'NAME ADDR'");
                name = f[f.length - 2];
                addr = f[f.length - 1];
            }
            m.put(name, KernelOptions.parseHex(addr));
        }
        return m;
    }
}
