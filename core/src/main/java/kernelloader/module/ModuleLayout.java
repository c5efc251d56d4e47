package kernelloader.module;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.ElfSectionHeader;

/**
 * Where a module's sections go, as the kernel's loader puts them (kernel/module/main.c, 6.4+:
 * layout_sections, module_get_offset_and_type): each allocated section, by the first of these
 * masks its flags match, appended (aligned to its sh_addralign) to one of the module's memory
 * types, init sections (".init*") to the init ones:
 * <pre>
 *   SHF_ALLOC|SHF_EXECINSTR            MOD_TEXT           MOD_INIT_TEXT
 *   SHF_ALLOC, not SHF_WRITE           MOD_RODATA         MOD_INIT_RODATA
 *   SHF_ALLOC|SHF_RO_AFTER_INIT        MOD_RO_AFTER_INIT  (none)
 *   SHF_ALLOC|SHF_WRITE                MOD_DATA           MOD_INIT_DATA
 * </pre>
 * .data..ro_after_init and __jump_table are marked SHF_RO_AFTER_INIT first; .modinfo,
 * __versions and the per-cpu section are not loaded (the per-cpu one goes to the per-cpu area);
 * arm64's PLT sections and ppc64's .stubs are sized first, as module_frob_arch_sections does;
 * ppc64 lays out no section apart as init (its module_init_section is false); s390's GOT and PLT,
 * which are no sections, are space at the start of MOD_TEXT (a {@link Placed#reserved()} entry).
 * Each memory type is then one allocation: here at consecutive page-aligned addresses from a
 * base, or, where the user gives them (the running kernel's /sys/module/NAME/sections), at those.
 */
public final class ModuleLayout {
    /** enum mod_mem_type, in the kernel's order. */
    public enum MemoryType { TEXT, DATA, RODATA, RO_AFTER_INIT, INIT_TEXT, INIT_DATA, INIT_RODATA }

    static final long SHF_RO_AFTER_INIT = 0x00200000L;
    static final long PAGE = 4096;

    /**
     * A section's place: its memory type, offset in it and address. Space an architecture
     * reserves in a memory type that is no section of the file (s390's GOT and PLT) is placed
     * too, with a negative index (see {@link #reserved()}): its bytes are in the linked module
     * under that index, like a section's.
     */
    public record Placed(int index, String name, MemoryType type, long offset, long address, long size) {
        /** Whether this is space the architecture reserved, not a section of the file. */
        public boolean reserved() { return index < 0; }

        /** The SHF_ flags of what is placed: its section's, or, for reserved space, its memory type's. */
        public long flags(KernelModuleFile m) {
            if (!reserved()) return m.sections().get(index).flags();
            return switch (type) {
                case TEXT, INIT_TEXT -> ElfSectionHeader.SHF_ALLOC | ElfSectionHeader.SHF_EXECINSTR;
                case RODATA, INIT_RODATA -> ElfSectionHeader.SHF_ALLOC;
                default -> ElfSectionHeader.SHF_ALLOC | ElfSectionHeader.SHF_WRITE;
            };
        }

        /** Whether it has no bytes in the file (SHT_NOBITS: .bss); reserved space is written by the linker. */
        public boolean nobits(KernelModuleFile m) {
            return !reserved() && m.sections().get(index).type() == ElfSectionHeader.SHT_NOBITS;
        }
    }

    /**
     * Space the architecture's module_frob_arch_sections adds to a memory type, not as a section:
     * it runs before layout_sections, so the space comes first in the memory, at offset 0.
     */
    record Reserved(String name, MemoryType type, long size) {}

    private final Map<Integer, Placed> placed;
    private final Map<MemoryType, long[]> memory;   // base, size
    private final long perCpu;

    private ModuleLayout(Map<Integer, Placed> placed, Map<MemoryType, long[]> memory, long perCpu) {
        this.placed = placed;
        this.memory = memory;
        this.perCpu = perCpu;
    }

    /**
     * The kernel's layout of {@code m}, its memory types from {@code base} on, each page-aligned;
     * the per-cpu section at {@code perCpu}. Sections in {@code given} (name to address) are put
     * there instead, as the running kernel placed them.
     */
    public static ModuleLayout of(KernelModuleFile m, long base, long perCpu, Map<String, Long> given) {
        return of(m, base, perCpu, given, false);
    }

    /**
     * As above; with {@code coreAllocation}, as kernels before 6.4 lay modules out: the core
     * memory types one allocation (text, read-only data, ro_after_init, data, each from a page
     * boundary: debug_align under STRICT_MODULE_RWX) and the init ones another, so the types go
     * from {@code base} in that order. 6.4+ allocates each type apart (here: one after another
     * in enum mod_mem_type's order). The offsets within a type are the same in both.
     */
    public static ModuleLayout of(KernelModuleFile m, long base, long perCpu, Map<String, Long> given, boolean coreAllocation) {
        List<ElfSectionHeader> sh = m.sections();
        int n = sh.size();
        // what the architecture sizes before the layout (arm64: its PLTs)
        Map<Integer, long[]> arch = archSizes(m);
        long[] flags = new long[n];
        boolean[] done = new boolean[n];
        for (int i = 0; i < n; i++) {
            ElfSectionHeader s = sh.get(i);
            flags[i] = s.flags();
            if (s.name().equals(".data..ro_after_init") || s.name().equals("__jump_table")) flags[i] |= SHF_RO_AFTER_INIT;
            // (the flags the architecture gives its sections: code unless it says, {size, align, flags})
            if (arch.containsKey(i)) flags[i] = arch.get(i).length > 2 ? arch.get(i)[2] : ElfSectionHeader.SHF_EXECINSTR | ElfSectionHeader.SHF_ALLOC;
            if (s.name().equals(".modinfo") || s.name().equals("__versions") || s.name().equals(".data..percpu")
                    || s.name().startsWith("__version_ext")) {
                flags[i] &= ~ElfSectionHeader.SHF_ALLOC;
            }
        }
        long[][] masks = {
            {ElfSectionHeader.SHF_EXECINSTR | ElfSectionHeader.SHF_ALLOC, 0},
            {ElfSectionHeader.SHF_ALLOC, ElfSectionHeader.SHF_WRITE},
            {SHF_RO_AFTER_INIT | ElfSectionHeader.SHF_ALLOC, 0},
            {ElfSectionHeader.SHF_WRITE | ElfSectionHeader.SHF_ALLOC, 0},
        };
        MemoryType[] core = {MemoryType.TEXT, MemoryType.RODATA, MemoryType.RO_AFTER_INIT, MemoryType.DATA};
        MemoryType[] init = {MemoryType.INIT_TEXT, MemoryType.INIT_RODATA, null, MemoryType.INIT_DATA};
        Map<MemoryType, Long> sizes = new EnumMap<>(MemoryType.class);
        Map<Integer, Object[]> at = new LinkedHashMap<>();
        List<Reserved> reserved = archReserved(m);
        for (int k = 0; k < reserved.size(); k++) {
            Reserved r = reserved.get(k);
            long offset = sizes.getOrDefault(r.type(), 0L);
            sizes.put(r.type(), offset + r.size());
            at.put(-1 - k, new Object[] {r.type(), offset, r.size()});
        }
        for (boolean isInit : new boolean[] {false, true}) {
            for (int k = 0; k < masks.length; k++) {
                MemoryType type = isInit ? init[k] : core[k];
                for (int i = 0; i < n; i++) {
                    ElfSectionHeader s = sh.get(i);
                    if ((flags[i] & masks[k][0]) != masks[k][0] || (flags[i] & masks[k][1]) != 0 || done[i]
                            || isInit != initSection(m, s.name())) continue;
                    done[i] = true;
                    if (type == null) continue;
                    long[] sized = arch.get(i);
                    long align = Math.max(1, sized != null ? sized[1] : s.addralign());
                    long length = sized != null ? sized[0] : s.size();
                    long size = sizes.getOrDefault(type, 0L);
                    long offset = (size + align - 1) / align * align;
                    sizes.put(type, offset + length);
                    at.put(i, new Object[] {type, offset, length});
                }
            }
        }
        Map<MemoryType, long[]> memory = new EnumMap<>(MemoryType.class);
        java.util.Set<MemoryType> rebased = java.util.EnumSet.noneOf(MemoryType.class);
        long next = base;
        MemoryType[] order = coreAllocation ? new MemoryType[] {MemoryType.TEXT, MemoryType.RODATA, MemoryType.RO_AFTER_INIT,
                MemoryType.DATA, MemoryType.INIT_TEXT, MemoryType.INIT_RODATA, MemoryType.INIT_DATA} : MemoryType.values();
        for (MemoryType t : order) {
            long size = sizes.getOrDefault(t, 0L);
            if (size == 0) continue;
            memory.put(t, new long[] {next, size});
            next += (size + PAGE - 1) / PAGE * PAGE;
        }
        // where the user gave a section of a memory type, the type starts where that puts it: the
        // sections not given (empty ones /sys/module leaves out) follow from it
        for (Map.Entry<Integer, Object[]> e : at.entrySet()) {
            if (e.getKey() < 0) continue;   // reserved space: /sys/module does not show it
            Long g = given.get(sh.get(e.getKey()).name());
            MemoryType t = (MemoryType) e.getValue()[0];
            if (g != null && memory.containsKey(t) && !rebased.contains(t)) {
                memory.put(t, new long[] {g - (Long) e.getValue()[1], memory.get(t)[1]});
                rebased.add(t);
            }
        }
        Map<Integer, Placed> placed = new LinkedHashMap<>();
        for (Map.Entry<Integer, Object[]> e : at.entrySet()) {
            String name = e.getKey() < 0 ? reserved.get(-1 - e.getKey()).name() : sh.get(e.getKey()).name();
            MemoryType t = (MemoryType) e.getValue()[0];
            long off = (Long) e.getValue()[1];
            Long g = e.getKey() < 0 ? null : given.get(name);
            // a memory type of size 0 is not allocated (move_module leaves its base NULL): its empty
            // sections (an empty .text) are at NULL + offset
            long typeBase = memory.containsKey(t) ? memory.get(t)[0] : 0;
            placed.put(e.getKey(), new Placed(e.getKey(), name, t, off, g != null ? g : typeBase + off, (Long) e.getValue()[2]));
        }
        return new ModuleLayout(Collections.unmodifiableMap(placed), memory, perCpu);
    }

    /**
     * What the architecture's module_frob_arch_sections sizes before the layout (its PLT, GOT or
     * stub sections): section index to {size, alignment}, or {size, alignment, flags} where the
     * section keeps flags of its own (else it becomes SHF_ALLOC|SHF_EXECINSTR, as arm64's PLTs do).
     */
    private static Map<Integer, long[]> archSizes(KernelModuleFile m) {
        return switch (m.elf().machine()) {
            case Relocators.EM_AARCH64 -> Arm64ModuleSections.sizes(m);
            case Relocators.EM_RISCV -> RiscvModuleSections.sizes(m);
            case Relocators.EM_PPC64 -> Ppc64ModuleSections.sizes(m);
            case Relocators.EM_ARM -> ArmModuleSections.sizes(m);
            default -> Map.of();
        };
    }

    /** module_init_section: whether a section goes to the init memory (".init*", but never on ppc64). */
    private static boolean initSection(KernelModuleFile m, String name) {
        return switch (m.elf().machine()) {
            case Relocators.EM_PPC64 -> Ppc64ModuleSections.initSection(name);
            default -> name.startsWith(".init");
        };
    }

    /** What the architecture's module_frob_arch_sections adds to a memory type that is no section (s390: GOT and PLT). */
    private static List<Reserved> archReserved(KernelModuleFile m) {
        return switch (m.elf().machine()) {
            case Relocators.EM_S390 -> S390ModuleSections.of(m).reserved();
            default -> List.of();
        };
    }

    /**
     * The address of section {@code index}: its place, the per-cpu area for .data..percpu; null
     * for a section not loaded (kernel addresses are negative: no sentinel value can stand for none).
     */
    public Long addressOf(KernelModuleFile m, int index) {
        Placed p = placed.get(index);
        if (p != null) return p.address();
        if (index > 0 && index < m.sections().size() && m.sections().get(index).name().equals(".data..percpu")) return perCpu;
        return null;
    }

    /** Each loaded section's place, in the order the layout made them. */
    public List<Placed> sections() { return new ArrayList<>(placed.values()); }

    /** Each memory type used: its address and size, as module_memory_alloc would get them. */
    public Map<MemoryType, long[]> memory() { return Collections.unmodifiableMap(memory); }
}
