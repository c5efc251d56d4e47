package kernelloader.cli;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kernelloader.btf.Btf;
import kernelloader.btf.BtfLocator;
import kernelloader.image.Facet;
import kernelloader.image.IkConfig;
import kernelloader.image.KernelVersion;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsLayout;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.dump.RunningKernel;
import kernelloader.kernel.Kernel;
import kernelloader.ksymtab.ExportTable;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;
import kernelloader.verify.Check;

/**
 * What `info` and `sweep` say of a kernel: one report, so that a field has one name and one
 * meaning in both (`sweep` prints the summary, `info` the whole). The keys are documented in
 * README; tests hold them.
 */
final class KernelReport {
    private KernelReport() {}

    /** The fields every report has: what the file is, and what of it could be read. */
    static Map<String, Object> summary(Kernel k) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("file", k.source());
        r.put("file_size", k.fileSize());
        r.put("kernel", k.kallsyms().present());
        r.put("layers", layers(k));
        if (!k.kallsyms().present()) {
            r.put("error", k.kallsyms().why());
            return r;
        }
        KallsymsTable t = k.kallsyms().orNull();
        KernelLayout layout = k.layout().orNull();
        KernelVersion v = k.version().orNull();
        r.put("kernel_version", v == null ? null : v.release());
        r.put("banner", k.banner().orNull());
        r.put("arch", layout.arch() == null ? null : layout.arch().value().name().toLowerCase());
        r.put("bits", layout.bits());
        r.put("endian", layout.order() == ByteOrder.LITTLE_ENDIAN ? "little" : "big");
        r.put("base_address", hex(layout.base().value()));
        if (k.running().present()) r.put("running", running(k.running().orNull(), null));
        r.put("ghidra_language", layout.ghidraLanguage());
        r.put("symbols", t.size());
        r.put("symbols_from", t.fromKallsyms() ? "kallsyms" : t.baseEvidence());
        r.put("confidence", k.verification().present() ? k.verification().orNull().confidence() : null);
        r.put("exports", exports(k.exports()));
        r.put("btf", btf(k.btf()));
        return r;
    }

    /** The summary and everything else the core knows: evidence, regions, arrays, config, timings. */
    static Map<String, Object> full(Kernel k) {
        Map<String, Object> s = summary(k);
        if (!k.kallsyms().present()) return s;
        KallsymsTable t = k.kallsyms().orNull();
        KernelLayout layout = k.layout().orNull();
        Map<String, Object> r = new LinkedHashMap<>();
        for (String key : List.of("file", "file_size", "kernel", "layers")) r.put(key, s.get(key));
        r.put("image_size", k.image().length());
        for (String key : List.of("kernel_version", "banner", "arch")) r.put(key, s.get(key));
        if (layout.arch() != null) r.put("arch_evidence", layout.arch().evidence());
        r.put("ghidra_language", layout.ghidraLanguage());
        r.put("ghidra_compiler_spec", layout.compilerSpec());
        if (layout.arch() != null && !layout.arch().value().inGhidra10_3()) {
            r.put("ghidra_note", layout.ghidraLanguage() == null ? "Ghidra has no processor for this architecture"
                    : "this language needs Ghidra 11.0 or later");
        }
        for (String key : List.of("bits", "endian", "symbols", "symbols_from", "confidence")) r.put(key, s.get(key));
        r.put("checks", checks(k));
        r.put("base_address", s.get("base_address"));
        r.put("base_evidence", layout.base().evidence() + " [" + layout.base().confidence() + "]");
        r.put("entry", hex(layout.entry().value()));
        if (k.running().present()) r.put("running", running(k.running().orNull(), layout));
        List<Map<String, Object>> regions = new ArrayList<>();
        for (MemoryRegion g : layout.regions()) {
            Map<String, Object> rm = new LinkedHashMap<>();
            rm.put("name", g.name());
            rm.put("start", hex(g.start()));
            rm.put("end", hex(g.end()));
            rm.put("permissions", g.permissions());
            rm.put("file_offset", g.initialized() ? hex(g.fileOffset()) : null);
            regions.add(rm);
        }
        r.put("regions", regions);
        if (t.fromKallsyms()) r.put("kallsyms", kallsyms(t));
        r.put("relocations", k.relocations().present() ? k.relocations().orNull().count() + " " + k.relocations().orNull().typeName()
                + " at image offset " + hex(k.relocations().orNull().tableStart()) : "none: " + k.relocations().why());
        r.put("exports", s.get("exports"));
        r.put("btf", s.get("btf"));
        r.put("config", IkConfig.summary(k.config().orNull()));
        r.put("overrides", k.options().given());
        r.put("attempts", k.diagnostics().attempts());
        r.put("rejected", k.diagnostics().rejected());
        r.put("timings", k.diagnostics().timingsMillis());
        return r;
    }

    /**
     * What a memory dump says of the kernel that ran in it: runtime _text, slide, link-time
     * _text, physical address, each with its evidence; with a layout, the kernel's memory map
     * at its runtime addresses, each region with its physical address and the dump file's offset.
     */
    static Map<String, Object> running(RunningKernel rk, KernelLayout layout) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dump", rk.dump());
        m.put("runtime_text", hex(rk.runtimeText()));
        m.put("slide", rk.slide() == null ? null : hex(rk.slide().value()));
        m.put("slide_evidence", rk.slide() == null ? "unknown: no VMCOREINFO in the dump states KERNELOFFSET"
                : rk.slide().evidence() + " [" + rk.slide().confidence() + "]");
        m.put("link_text", rk.linkText() == null ? null : hex(rk.linkText()));
        m.put("physical_text", rk.physicalText() == null ? null : hex(rk.physicalText().value()));
        m.put("physical_evidence", rk.physicalText() == null ? "unknown: nothing in the dump states it"
                : rk.physicalText().evidence() + " [" + rk.physicalText().confidence() + "]");
        m.put("dump_physical_start", rk.dumpStart() == null ? null : hex(rk.dumpStart()));
        m.put("text_offset_in_memory", hex(rk.textOffset()));
        long textInFile = rk.fileOffsetOf(rk.runtimeText());
        m.put("text_dump_file_offset", textInFile < 0 ? null : hex(textInFile));
        m.put("vmcoreinfo", rk.vmcoreinfo() == null ? null : rk.vmcoreinfo().where());
        if (!rk.notes().isEmpty()) m.put("notes", rk.notes());
        if (layout != null) {
            List<Map<String, Object>> map = new ArrayList<>();
            for (MemoryRegion g : layout.regions()) {
                Map<String, Object> rm = new LinkedHashMap<>();
                rm.put("name", g.name());
                rm.put("start", hex(g.start()));
                rm.put("end", hex(g.end()));
                Long phys = rk.physicalOf(g.start());
                rm.put("physical", phys == null ? null : hex(phys));
                long off = g.initialized() ? rk.fileOffsetOf(g.start()) : -1;
                rm.put("dump_file_offset", off < 0 ? null : hex(off));
                map.add(rm);
            }
            m.put("memory_map", map);
        }
        return m;
    }

    private static List<Map<String, Object>> layers(Kernel k) {
        List<Map<String, Object>> layers = new ArrayList<>();
        for (Layer layer : k.image().layers()) {
            Map<String, Object> lm = new LinkedHashMap<>();
            lm.put("kind", layer.kind());
            lm.put("offset", layer.offset());
            if (layer.length() >= 0) lm.put("length", layer.length());
            if (!layer.detail().isEmpty()) lm.put("detail", layer.detail());
            layers.add(lm);
        }
        return layers;
    }

    /** Each content check of the reading: name, verdict, figures. */
    static List<Map<String, Object>> checks(Kernel k) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (!k.verification().present()) return out;
        for (Check c : k.verification().orNull().checks()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("check", c.name());
            m.put("verdict", c.verdict().name().toLowerCase());
            m.put("detail", c.detail());
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> kallsyms(KallsymsTable t) {
        KallsymsLayout l = t.layout();
        Map<String, Object> ks = new LinkedHashMap<>();
        ks.put("era", l.era());
        ks.put("address_encoding", l.encoding().name().toLowerCase());
        ks.put("name_lengths", l.lengthsUleb128() ? "uleb128" : "byte");
        ks.put("marker_width", l.markerWidth());
        ks.put("base_evidence", t.baseEvidence());
        Map<String, String> arrays = new LinkedHashMap<>();
        l.arrays().forEach((name, off) -> arrays.put(name, hex(off)));
        ks.put("arrays", arrays);
        return ks;
    }

    /** What `symvers` would print, summed up: counts per kind, entry layout, CRCs; or why there are none. */
    private static Map<String, Object> exports(Facet<ExportTable> f) {
        Map<String, Object> e = new LinkedHashMap<>();
        ExportTable t = f.orNull();
        if (t == null) {
            e.put("count", 0);
            e.put("error", f.why());
            return e;
        }
        e.put("count", t.exports().size());
        Map<String, Integer> kinds = new LinkedHashMap<>();
        t.countsByKind().forEach((kind, n) -> kinds.put(kind.name(), n));
        e.put("kinds", kinds);
        e.put("ksymtab", hex(t.ksymtabAddress()));
        e.put("entry_format", t.format().describe());
        e.put("crcs", t.crcs().description);
        e.put("gpl_only_from", t.boundaries());
        return e;
    }

    /** What `btf` would dump, summed up: where the blob is, its size and type counts; or why there is none. */
    private static Map<String, Object> btf(Facet<BtfLocator.Found> f) {
        Map<String, Object> b = new LinkedHashMap<>();
        BtfLocator.Found found = f.orNull();
        if (found == null) {
            b.put("present", false);
            b.put("types", 0);
            b.put("why", f.why());
            return b;
        }
        Btf t = found.btf();
        b.put("present", true);
        b.put("offset", hex(found.offset()));
        b.put("found_by", found.how());
        b.put("bytes", t.byteSize());
        b.put("byte_order", t.order() == ByteOrder.LITTLE_ENDIAN ? "little" : "big");
        b.put("types", t.types().size());
        Map<String, Integer> kinds = new LinkedHashMap<>();
        t.kindCounts().forEach((kind, n) -> kinds.put(kind.name(), n));
        b.put("kinds", kinds);
        return b;
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
