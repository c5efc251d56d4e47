package kernelloader.cli;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.GsonBuilder;

import kernelloader.core.KernelModel;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsLayout;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kallsyms info}: what was found, for a person or (with --json) for a program. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Describe the kernel: layers peeled, version, word size, byte order, kallsyms arrays, timings.")
final class InfoCommand implements Callable<Integer> {
    @CommandLine.Mixin
    KallsymsCli.KernelOptionsMixin opts;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        KernelModel m = opts.read();
        m.timingsMillis().put("total", (System.nanoTime() - t0) / 1_000_000);
        long t1 = System.nanoTime();
        KernelLayout layout = opts.layout(m);
        m.timingsMillis().put("layout", (System.nanoTime() - t1) / 1_000_000);
        long t2 = System.nanoTime();
        Map<String, Object> exports = exports(m, layout);
        m.timingsMillis().put("exports", (System.nanoTime() - t2) / 1_000_000);
        Map<String, Object> info = toMap(m, layout);
        info.put("exports", exports);
        long t3 = System.nanoTime();
        info.put("btf", btf(m, layout));
        m.timingsMillis().put("btf", (System.nanoTime() - t3) / 1_000_000);
        info.put("overrides", opts.given());
        PrintStream out = System.out;
        if (json) {
            out.println(new GsonBuilder().disableHtmlEscaping().create().toJson(info));
        } else {
            printText(out, m, layout, info);
            if (!opts.given().isEmpty()) out.printf("overrides:       %s%n", opts.given());
        }
        return 0;
    }

    static Map<String, Object> toMap(KernelModel m, KernelLayout layout) {
        KallsymsTable k = m.kallsyms();
        KallsymsLayout l = k.layout();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("file", m.source());
        info.put("file_size", m.fileSize());
        java.util.List<Map<String, Object>> layers = new java.util.ArrayList<>();
        for (Layer layer : m.image().layers()) {
            Map<String, Object> lm = new LinkedHashMap<>();
            lm.put("kind", layer.kind());
            lm.put("offset", layer.offset());
            if (layer.length() >= 0) lm.put("length", layer.length());
            if (!layer.detail().isEmpty()) lm.put("detail", layer.detail());
            layers.add(lm);
        }
        info.put("layers", layers);
        info.put("image_size", m.image().length());
        info.put("kernel_version", m.versionBanner());
        if (layout.arch() != null) {
            info.put("arch", layout.arch().value().name().toLowerCase());
            info.put("arch_evidence", layout.arch().evidence());
        }
        info.put("ghidra_language", layout.ghidraLanguage());
        info.put("ghidra_compiler_spec", layout.compilerSpec());
        if (layout.arch() != null && !layout.arch().value().inGhidra10_3()) {
            info.put("ghidra_note", layout.ghidraLanguage() == null ? "Ghidra has no processor for this architecture"
                    : "this language needs Ghidra 11.0 or later");
        }
        info.put("bits", k.bits());
        info.put("endian", k.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? "little" : "big");
        info.put("symbols", k.size());
        info.put("base_address", hex(layout.base().value()));
        info.put("base_evidence", layout.base().evidence() + " [" + layout.base().confidence() + "]");
        info.put("entry", hex(layout.entry().value()));
        java.util.List<Map<String, Object>> regions = new java.util.ArrayList<>();
        for (MemoryRegion r : layout.regions()) {
            Map<String, Object> rm = new LinkedHashMap<>();
            rm.put("name", r.name());
            rm.put("start", hex(r.start()));
            rm.put("end", hex(r.end()));
            rm.put("permissions", r.permissions());
            rm.put("file_offset", r.initialized() ? hex(r.fileOffset()) : null);
            regions.add(rm);
        }
        info.put("regions", regions);
        Map<String, Object> ks = new LinkedHashMap<>();
        ks.put("era", l.era());
        ks.put("address_encoding", l.encoding().name().toLowerCase());
        ks.put("name_lengths", l.lengthsUleb128() ? "uleb128" : "byte");
        ks.put("marker_width", l.markerWidth());
        ks.put("base_evidence", k.baseEvidence());
        Map<String, String> arrays = new LinkedHashMap<>();
        l.arrays().forEach((name, off) -> arrays.put(name, "0x" + Integer.toHexString(off)));
        ks.put("arrays", arrays);
        info.put("kallsyms", ks);
        info.put("config", kernelloader.image.IkConfig.summary(kernelloader.image.IkConfig.find(m.image())));
        info.put("timings", m.timingsMillis());
        return info;
    }

    /** What `symvers` would print, summed up: counts per kind, entry layout, CRCs; or why there are none. */
    private static Map<String, Object> exports(KernelModel m, KernelLayout layout) {
        Map<String, Object> e = new LinkedHashMap<>();
        try {
            kernelloader.ksymtab.ExportTable t = kernelloader.core.KernelReader.exports(m, layout);
            e.put("count", t.exports().size());
            Map<String, Integer> kinds = new LinkedHashMap<>();
            t.countsByKind().forEach((k, n) -> kinds.put(k.name(), n));
            e.put("kinds", kinds);
            e.put("ksymtab", hex(t.ksymtabAddress()));
            e.put("entry_format", t.format().describe());
            e.put("crcs", t.crcs().description);
            e.put("gpl_only_from", t.boundaries());
        } catch (kernelloader.image.KernelFormatException x) {
            e.put("count", 0);
            e.put("error", x.getMessage());
        }
        return e;
    }

    /** What `btf` would dump, summed up: where the blob is, its size and type counts; or why there is none. */
    private static Map<String, Object> btf(KernelModel m, KernelLayout layout) {
        Map<String, Object> b = new LinkedHashMap<>();
        kernelloader.btf.BtfLocator.Outcome o = kernelloader.core.KernelReader.btf(m, layout);
        if (o.found() == null) {
            b.put("present", false);
            b.put("why", String.join("; ", o.tried()));
            return b;
        }
        kernelloader.btf.Btf t = o.found().btf();
        b.put("present", true);
        b.put("offset", hex(o.found().offset()));
        b.put("found_by", o.found().how());
        b.put("bytes", t.byteSize());
        b.put("byte_order", t.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? "little" : "big");
        b.put("types", t.types().size());
        Map<String, Integer> kinds = new LinkedHashMap<>();
        t.kindCounts().forEach((k, n) -> kinds.put(k.name(), n));
        b.put("kinds", kinds);
        return b;
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private static void printText(PrintStream out, KernelModel m, KernelLayout layout, Map<String, Object> info) {
        KallsymsTable k = m.kallsyms();
        KallsymsLayout l = k.layout();
        out.printf("file:            %s (%d bytes)%n", m.source(), m.fileSize());
        out.printf("layers:          %s%n", m.image().describeLayers());
        for (Layer layer : m.image().layers()) out.printf("                 - %s%n", layer);
        out.printf("kernel version:  %s%n", m.versionBanner() == null ? "(no banner found)" : m.versionBanner());
        out.printf("architecture:    %s%n", layout.arch() == null ? "unknown" : layout.arch().value().displayName() + " (" + layout.arch().evidence() + ")");
        out.printf("ghidra language: %s%n", layout.ghidraLanguage() == null ? "none (Ghidra has no processor for it)"
                : layout.ghidraLanguage() + " / " + layout.compilerSpec()
                + (layout.arch().value().inGhidra10_3() ? "" : " (Ghidra 11.0+)"));
        out.printf("word size:       %d-bit%n", k.bits());
        out.printf("byte order:      %s-endian%n", k.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? "little" : "big");
        out.printf("symbols:         %d%n", k.size());
        out.printf("kallsyms layout: %s era; %s; %s name lengths; %d-byte markers%n", l.era(),
                l.encoding().description(), l.lengthsUleb128() ? "ULEB128" : "one-byte", l.markerWidth());
        out.printf("addresses:       %s%n", k.baseEvidence());
        out.printf("base address:    0x%x (%s) [%s]%n", layout.base().value(), layout.base().evidence(), layout.base().confidence());
        out.printf("entry:           0x%x (%s)%n", layout.entry().value(), layout.entry().evidence());
        out.println("regions:");
        for (MemoryRegion r : layout.regions()) {
            out.printf("  %-12s 0x%x-0x%x %s %s%n", r.name(), r.start(), r.end(), r.permissions(),
                    r.initialized() ? "file 0x" + Long.toHexString(r.fileOffset()) : "uninitialised");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> ex = (Map<String, Object>) info.get("exports");
        out.printf("exports:         %s%n", ex.containsKey("error") ? "none: " + ex.get("error")
                : ex.get("count") + " " + ex.get("kinds") + " at " + ex.get("ksymtab") + ", " + ex.get("entry_format")
                + "; CRCs: " + ex.get("crcs"));
        @SuppressWarnings("unchecked")
        Map<String, Object> btf = (Map<String, Object>) info.get("btf");
        out.printf("BTF:             %s%n", Boolean.TRUE.equals(btf.get("present"))
                ? btf.get("types") + " types, " + btf.get("bytes") + " bytes at image offset " + btf.get("offset") + " (" + btf.get("found_by") + ")"
                : "none (" + btf.get("why") + ")");
        Object config = info.get("config");
        out.printf("config:          %s%n", config == null ? "not embedded (no CONFIG_IKCONFIG)" : config);
        out.println("kallsyms arrays (offsets in the peeled image):");
        l.arrays().forEach((name, off) -> out.printf("  %-24s 0x%x%n", name, off));
        out.print("timings (ms):   ");
        m.timingsMillis().forEach((phase, ms) -> out.printf(" %s %d", phase, ms));
        out.println();
    }
}
