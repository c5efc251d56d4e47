package kernelloader.module;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import kernelloader.image.ElfSectionHeader;
import kernelloader.image.KernelFormatException;
import kernelloader.ksymtab.KernelExport;

/**
 * Links a module against its kernel as the kernel's loader does (kernel/module/main.c:
 * simplify_symbols, resolve_symbol, check_version, verify_namespace_is_imported, then
 * apply_relocations with the architecture's apply_relocate_add): every undefined symbol is
 * resolved to an export of the kernel or of a module loaded before it (never to a symbol the
 * kernel does not export: the kernel refuses those), GPL-only exports are refused to a module
 * whose license is not GPL-compatible, namespaced ones to a module that does not import the
 * namespace, a CRC in __versions that differs from the export's is a refusal; defined symbols
 * are moved to their section's address; every relocation of every loaded section is applied.
 * What the kernel would refuse is reported, in its words, not hidden.
 */
public final class ModuleLinker {
    private ModuleLinker() {}

    /** Where an import comes from: the kernel ("vmlinux") or a module, with the export's facts. */
    public record Provider(String from, KernelExport export, boolean hasCrc) {}

    /** The exports a module may link to: the kernel's, then those of modules loaded before it. */
    public static final class Exports {
        private final Map<String, Provider> byName = new HashMap<>();
        private java.util.function.Function<String, Long> kernelSymbols = name -> null;

        /** {@code exports} of {@code from} ("vmlinux", a module's name); {@code crcs}: whether they carry CRCs (MODVERSIONS). */
        public Exports add(String from, List<KernelExport> exports, boolean crcs) {
            for (KernelExport e : exports) byName.putIfAbsent(e.name(), new Provider(from, e, crcs && e.crc() != -1));
            return this;
        }

        Provider find(String name) { return byName.get(name); }

        /**
         * The kernel's own symbols (kallsyms), for what an architecture's loader takes from the
         * kernel without any module importing it (arm's fixed PLT entry for ftrace_caller); never
         * for resolving a module's symbols.
         */
        public Exports kernelSymbols(java.util.function.Function<String, Long> lookup) {
            kernelSymbols = lookup;
            return this;
        }

        /** A kernel symbol's address, or null where not known. */
        Long kernelSymbol(String name) { return kernelSymbols.apply(name); }

        public int size() { return byName.size(); }
    }

    /** A symbol the module imports, and what it was linked to. */
    public record Import(String name, long address, String from, String kind, String namespace) {}

    /** The module linked: its sections' bytes at their addresses, its imports, counts and what the kernel would refuse. */
    public record Linked(KernelModuleFile module, ModuleLayout layout, Map<Integer, byte[]> sections, long[] symbolValues,
                         List<Import> imports, List<String> unresolved, List<String> refusals,
                         Map<String, Integer> relocationCounts, int relocations, List<KernelExport> exports) {
        /** Whether the kernel would load it (nothing unresolved or refused). */
        public boolean loads() { return unresolved.isEmpty() && refusals.isEmpty(); }
    }

    /** Licenses the kernel counts as GPL-compatible (include/linux/license.h). */
    static boolean gplCompatible(String license) {
        if (license == null) return false;
        return switch (license) {
            case "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL" -> true;
            default -> false;
        };
    }

    public static Linked link(KernelModuleFile m, ModuleLayout layout, Exports exports) throws KernelFormatException {
        if (!Relocators.supports(m.elf().machine())) {
            throw new KernelFormatException(m.source() + ": relocations of e_machine " + m.elf().machine()
                    + " are not implemented yet (" + Relocators.SUPPORTED + " are)");
        }
        List<ElfSectionHeader> sh = m.sections();
        List<ModuleSymbol> syms = Relocators.symbols(m);
        long[] values = new long[syms.size()];
        List<Import> imports = new ArrayList<>();
        List<String> unresolved = new ArrayList<>();
        List<String> refusals = new ArrayList<>();
        boolean gpl = gplCompatible(m.modinfo().get("license"));
        List<String> namespaces = m.modinfo().all("import_ns");
        Map<String, Long> crcs = new HashMap<>();
        for (KernelModuleFile.Version v : m.versions()) crcs.put(v.name(), v.crc());
        for (ModuleSymbol s : syms) {
            if (s.index() == 0) continue;
            switch (s.shndx()) {
                case ModuleSymbol.SHN_ABS, ModuleSymbol.SHN_LIVEPATCH -> values[s.index()] = s.value();
                case ModuleSymbol.SHN_COMMON -> refusals.add("please compile with -fno-common: " + s.name() + " is a common symbol");
                case ModuleSymbol.SHN_UNDEF -> {
                    Provider p = exports.find(s.name());
                    if (p == null) {
                        if (!s.weak()) unresolved.add(s.name());
                        values[s.index()] = 0;
                        continue;
                    }
                    KernelExport e = p.export();
                    if (e.kind().gplOnly() && !gpl) {
                        refusals.add(m.name() + ": " + s.name() + " is GPL-only (" + e.kind() + ") and the module's license is "
                                + m.modinfo().get("license"));
                    }
                    if (e.namespace() != null && !e.namespace().isEmpty() && !namespaces.contains(e.namespace())) {
                        refusals.add(m.name() + ": module uses symbol (" + s.name() + ") from namespace " + e.namespace()
                                + ", but does not import it.");
                    }
                    Long want = crcs.get(s.name());
                    if (p.hasCrc() && want != null && want != (e.crc() & 0xffffffffL)) {
                        refusals.add(String.format("%s: disagrees about version of symbol %s (the module expects CRC 0x%08x, %s has 0x%08x)",
                                m.name(), s.name(), want, p.from(), e.crc() & 0xffffffffL));
                    }
                    values[s.index()] = e.value();
                    imports.add(new Import(s.name(), e.value(), p.from(), e.kind().name(), e.namespace()));
                }
                default -> {
                    Long base = layout.addressOf(m, s.shndx());
                    values[s.index()] = s.value() + (base == null ? 0 : base);
                }
            }
        }
        Map<Integer, byte[]> bytes = new LinkedHashMap<>();
        for (ModuleLayout.Placed p : layout.sections()) {
            byte[] b = new byte[(int) p.size()];   // reserved space starts zeroed, as the kernel's module memory does
            if (!p.reserved() && !p.nobits(m)) {
                ElfSectionHeader s = sh.get(p.index());
                System.arraycopy(m.data(), (int) s.offset(), b, 0, (int) Math.min(b.length, s.size()));
            }
            bytes.put(p.index(), b);
        }
        Relocator r = Relocators.of(m, layout, bytes, values, exports);
        Map<String, Integer> counts = new TreeMap<>();
        int applied = 0;
        for (int target : m.relocatedSections()) {
            byte[] b = bytes.get(target);
            if (b == null) continue;   // a section not loaded (debug info, .modinfo): the kernel skips its relocations
            long base = layout.addressOf(m, target);   // loaded: it has bytes
            boolean rela = m.rela(target);
            for (ModuleRelocation rel : r.order(m, target)) {
                counts.merge(r.typeName(rel.type()), 1, Integer::sum);
                String why = r.apply(b, (int) rel.offset(), base + rel.offset(), rel, values[rel.symbol()], rela);
                if (why != null) {
                    refusals.add(m.name() + ": " + sh.get(target).name() + "+0x" + Long.toHexString(rel.offset()) + " ("
                            + syms.get(rel.symbol()).name() + "): " + why);
                } else {
                    applied++;
                }
            }
        }
        return new Linked(m, layout, Collections.unmodifiableMap(bytes), values, Collections.unmodifiableList(imports),
                Collections.unmodifiableList(unresolved), Collections.unmodifiableList(refusals), Collections.unmodifiableMap(counts),
                applied, exportsOf(m, values));
    }

    /**
     * What the module exports to the modules after it: each __ksymtab_NAME entry's NAME at NAME's
     * linked address (EXPORT_SYMBOL_GPL's entries in a ___ksymtab_gpl+ section), CRCs from
     * __crc_NAME where the module has them.
     */
    /** A module export's CRC: __crc_NAME's value (SHN_ABS, before 5.x), or the u32 it labels in __kcrctab; -1 without one. */
    static long crcOf(KernelModuleFile m, ModuleSymbol crc) {
        if (crc == null) return -1;
        if (crc.shndx() == ModuleSymbol.SHN_ABS) return crc.value() & 0xffffffffL;
        if (crc.shndx() <= 0 || crc.shndx() >= m.sections().size()) return -1;
        ElfSectionHeader s = m.sections().get(crc.shndx());
        if (s.type() == ElfSectionHeader.SHT_NOBITS || crc.value() + 4 > s.size()) return -1;
        return new kernelloader.image.ByteView(m.data(), m.data().length, m.elf().order()).u32((int) (s.offset() + crc.value()));
    }

    static List<KernelExport> exportsOf(KernelModuleFile m, long[] values) {
        Map<String, ModuleSymbol> byName = new HashMap<>();
        for (ModuleSymbol s : m.symbols()) if (s.bind() != ModuleSymbol.STB_LOCAL && !s.undefined()) byName.putIfAbsent(s.name(), s);
        List<KernelExport> out = new ArrayList<>();
        for (ModuleSymbol s : m.symbols()) {
            if (!s.name().startsWith("__ksymtab_") || s.shndx() == ModuleSymbol.SHN_UNDEF || s.shndx() >= m.sections().size()) continue;
            String name = s.name().substring("__ksymtab_".length());
            ModuleSymbol target = byName.get(name);
            if (target == null) continue;
            String section = m.sections().get(s.shndx()).name();
            kernelloader.ksymtab.ExportKind kind = section.contains("_gpl") ? kernelloader.ksymtab.ExportKind.EXPORT_SYMBOL_GPL
                    : kernelloader.ksymtab.ExportKind.EXPORT_SYMBOL;
            out.add(new KernelExport(name, values[target.index()], kind, "", crcOf(m, byName.get("__crc_" + name))));
        }
        return out;
    }
}
