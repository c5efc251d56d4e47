package kernelloader.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.GsonBuilder;

import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsLayout;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kallsyms info}: what was found, for a person or (with --json) for a program. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Describe the kernel: layers peeled, version, architecture, base, regions, kallsyms arrays, exports, BTF, timings.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    KernelFileOptions opts;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Kernel k = opts.read();
        k.kallsyms().get();
        Map<String, Object> info = KernelReport.full(k);
        PrintStream out = System.out;
        if (json) out.println(new GsonBuilder().disableHtmlEscaping().create().toJson(info));
        else printText(out, k, info);
        return 0;
    }

    /** A running kernel's slide, physical address and memory map, as the JSON report has them. */
    @SuppressWarnings("unchecked")
    private static void printRunning(PrintStream out, Map<String, Object> rk) {
        out.printf("running kernel:  %s; _text at %s, 0x%s into the memory%n", rk.get("dump"), rk.get("runtime_text"),
                ((String) rk.get("text_offset_in_memory")).substring(2));
        out.printf("slide:           %s (%s)%s%n", rk.get("slide") == null ? "unknown" : rk.get("slide"), rk.get("slide_evidence"),
                rk.get("link_text") == null ? "" : "; link-time _text " + rk.get("link_text"));
        out.printf("physical:        %s (%s)%s%n", rk.get("physical_text") == null ? "unknown" : "_text at " + rk.get("physical_text"),
                rk.get("physical_evidence"), rk.get("dump_physical_start") == null ? "" : "; the dump starts at " + rk.get("dump_physical_start"));
        if (rk.get("vmcoreinfo") != null) out.printf("vmcoreinfo:      %s%n", rk.get("vmcoreinfo"));
        for (Object n : (List<Object>) rk.getOrDefault("notes", List.of())) out.printf("  note: %s%n", n);
        out.println("memory map (runtime address, physical address, dump file offset):");
        for (Map<String, Object> g : (List<Map<String, Object>>) rk.get("memory_map")) {
            out.printf("  %-12s %s-%s phys %s %s%n", g.get("name"), g.get("start"), g.get("end"),
                    g.get("physical") == null ? "?" : g.get("physical"),
                    g.get("dump_file_offset") == null ? "not in the dump" : "file " + g.get("dump_file_offset"));
        }
    }

    @SuppressWarnings("unchecked")
    private static void printText(PrintStream out, Kernel k, Map<String, Object> info) {
        KallsymsTable t = k.kallsyms().orNull();
        KallsymsLayout l = t.layout();
        KernelLayout layout = k.layout().orNull();
        out.printf("file:            %s (%d bytes)%n", k.source(), k.fileSize());
        out.printf("layers:          %s%n", k.image().describeLayers());
        for (Layer layer : k.image().layers()) out.printf("                 - %s%n", layer);
        out.printf("kernel version:  %s%n", k.banner().present() ? k.banner().orNull() : "(no banner found)");
        out.printf("architecture:    %s%n", layout.arch() == null ? "unknown" : layout.arch().value().displayName() + " (" + layout.arch().evidence() + ")");
        out.printf("ghidra language: %s%n", layout.ghidraLanguage() == null ? "none (Ghidra has no processor for it)"
                : layout.ghidraLanguage() + " / " + layout.compilerSpec()
                + (layout.arch().value().inGhidra10_3() ? "" : " (Ghidra 11.0+)"));
        out.printf("word size:       %d-bit%n", t.bits());
        out.printf("byte order:      %s-endian%n", info.get("endian"));
        out.printf("symbols:         %d%s%n", t.size(), l == null ? " from " + t.baseEvidence() : "");
        if (l != null) {
            out.printf("kallsyms layout: %s era; %s; %s name lengths; %d-byte markers%n", l.era(),
                    l.encoding().description(), l.lengthsUleb128() ? "ULEB128" : "one-byte", l.markerWidth());
            out.printf("addresses:       %s%n", t.baseEvidence());
        }
        out.printf("confidence:      %s%n", info.get("confidence"));
        for (Map<String, Object> c : (List<Map<String, Object>>) info.get("checks")) {
            out.printf("  %-10s %-15s %s%n", c.get("check"), c.get("verdict"), c.get("detail"));
        }
        out.printf("base address:    0x%x (%s) [%s]%n", layout.base().value(), layout.base().evidence(), layout.base().confidence());
        out.printf("entry:           0x%x (%s)%n", layout.entry().value(), layout.entry().evidence());
        if (info.get("running") instanceof Map<?, ?> rk) printRunning(out, (Map<String, Object>) rk);
        out.println("regions:");
        for (MemoryRegion r : layout.regions()) {
            out.printf("  %-12s 0x%x-0x%x %s %s%n", r.name(), r.start(), r.end(), r.permissions(),
                    r.initialized() ? "file 0x" + Long.toHexString(r.fileOffset()) : "uninitialised");
        }
        out.printf("relocations:     %s%n", info.get("relocations"));
        Map<String, Object> ex = (Map<String, Object>) info.get("exports");
        out.printf("exports:         %s%n", ex.containsKey("error") ? "none: " + ex.get("error")
                : ex.get("count") + " " + ex.get("kinds") + " at " + ex.get("ksymtab") + ", " + ex.get("entry_format")
                + "; CRCs: " + ex.get("crcs"));
        Map<String, Object> btf = (Map<String, Object>) info.get("btf");
        out.printf("BTF:             %s%n", Boolean.TRUE.equals(btf.get("present"))
                ? btf.get("types") + " types, " + btf.get("bytes") + " bytes at image offset " + btf.get("offset") + " (" + btf.get("found_by") + ")"
                : "none (" + btf.get("why") + ")");
        Object config = info.get("config");
        out.printf("config:          %s%n", config == null ? "not embedded (no CONFIG_IKCONFIG)" : config);
        if (l != null) {
            out.println("kallsyms arrays (offsets in the peeled image):");
            l.arrays().forEach((name, off) -> out.printf("  %-24s 0x%x%n", name, off));
        }
        Map<String, String> given = k.options().given();
        if (!given.isEmpty()) out.printf("overrides:       %s%n", given);
        out.print("timings (ms):   ");
        ((Map<String, Long>) info.get("timings")).forEach((phase, ms) -> out.printf(" %s %d", phase, ms));
        out.println();
    }

}
