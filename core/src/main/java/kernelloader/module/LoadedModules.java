package kernelloader.module;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.KernelFormatException;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.ksymtab.ExportTable;

/**
 * Modules loaded into one kernel, one after another, as insmod loads them: each is laid out
 * after the memory of the one before (or where the user says), linked against the kernel's
 * exports and those of the modules loaded before it. The command line, the Ghidra loader and
 * the tests all load modules through this, so they place and link them alike.
 */
public final class LoadedModules {
    private final Kernel kernel;
    private final ModuleLinker.Exports exports;
    private final long perCpu;
    private final Long text;
    private final List<ModuleLinker.Linked> loaded = new ArrayList<>();
    private Long next;

    private LoadedModules(Kernel kernel, ModuleLinker.Exports exports, long perCpu, Long text) {
        this.kernel = kernel;
        this.exports = exports;
        this.perCpu = perCpu;
        this.text = text;
    }

    /** No module loaded yet into {@code k}, whose exports they may import (its ksymtab must read). */
    public static LoadedModules into(Kernel k) throws KernelFormatException {
        ExportTable e = k.exports().get();
        KallsymsTable s = k.kallsyms().get();
        // a module's per-cpu data goes to the kernel's per-cpu area; the kernel allocates it at
        // load time and /sys/module does not say where: its start stands in
        Long pcpu = s.addressOf("__per_cpu_start");
        ModuleLinker.Exports exports = new ModuleLinker.Exports().add("vmlinux", e.exports(), e.hasCrcs()).kernelSymbols(s::addressOf);
        return new LoadedModules(k, exports, pcpu == null ? 0 : pcpu,
                s.addressOf("_text"));
    }

    public Kernel kernel() { return kernel; }

    /** The modules loaded so far, in load order. */
    public List<ModuleLinker.Linked> loaded() { return Collections.unmodifiableList(loaded); }

    /**
     * s390's MODULES_VADDR at 6.1 (arch/s390/boot/startup.c, setup_kernel_memory_layout): the
     * module area is MODULES_LEN (2 GiB) below MODULES_END, which is the absolute-lowcore area
     * (NR_CPUS 8 KiB lowcores: Debian's 256, 2 MiB) rounded down to a 1 MiB segment, below the
     * one-page memcpy_real area at the top of the kernel's address space: 4 TiB (_REGION2_SIZE)
     * with the 3-level layout that a machine of less than about 3 TiB of memory and no KASAN gets.
     * Not near the kernel image (that is 6.6+'s rule): 6.1's kernel runs at its physical address,
     * low, so modules reach it through their PLT and GOT.
     */
    static final long S390_MODULES_VADDR;
    static {
        long vmax = 1L << 42, memcpyReal = vmax - 4096, absLowcore = (memcpyReal - 256L * 8192) & ~8191L;
        long modulesEnd = absLowcore & ~((1L << 20) - 1);
        S390_MODULES_VADDR = modulesEnd - (2L << 30);
    }

    /**
     * Where the first module goes when no base is given: x86-64's module area; arm64's 128 MiB
     * below the kernel's _text (where the kernel puts modules when it can, so that calls reach
     * the kernel without PLTs); MIPS's MODULE_START, CKSSEG (64-bit kernels built -msym32, as
     * Debian's are: modules in the 32-bit-compatible segment, reached by lui/addiu pairs);
     * riscv64's 2 GiB below the kernel's _end (its MODULES_VADDR);
     * ppc64's vmalloc area (0xc008000000000000: calls to the kernel go through stubs wherever a
     * module is); s390's module area ({@link #S390_MODULES_VADDR}).
     */
    public long defaultBase(KernelModuleFile m) {
        return switch (m.elf().machine()) {
            case Relocators.EM_AARCH64 -> text != null ? (text - (128L << 20)) & ~0xfffL : 0xffff800080000000L;
            case Relocators.EM_MIPS -> 0xffffffffc0000000L;   // CKSSEG (arch/mips/include/asm/pgtable-64.h)
            // riscv64's MODULES_VADDR, PFN_ALIGN(_end) - 2 GiB (execmem allocates upwards from it);
            // without _end, MODULES_LOWEST_VADDR (KERNEL_LINK_ADDR - 2 GiB)
            case Relocators.EM_RISCV -> {
                kernelloader.kallsyms.KallsymsTable syms = kernel.kallsyms().orNull();
                Long end = syms == null ? null : syms.addressOf("_end");
                yield end != null ? ((end + 0xfff) & ~0xfffL) - (2L << 30) : 0xffffffff00000000L;
            }
            // book3s64 defines no MODULES_VADDR: execmem allocates modules from VMALLOC_START (radix)
            case Relocators.EM_PPC64 -> 0xc008000000000000L;
            case Relocators.EM_S390 -> S390_MODULES_VADDR;
            case Relocators.EM_ARM -> 0xbf000000L;   // 32-bit arm's MODULES_VADDR: PAGE_OFFSET - 16 MiB (the 3G/1G split's)
            default -> 0xffffffffc0000000L;   // x86-64's MODULES_VADDR
        };
    }

    /**
     * Loads {@code m}: at {@code sections}' addresses where given (a running kernel's
     * /sys/module/NAME/sections), its memory from {@code base}, or, with null, after the modules
     * before it. What it exports is then available to the modules after it.
     */
    public ModuleLinker.Linked load(KernelModuleFile m, Map<String, Long> sections, Long base) throws KernelFormatException {
        for (ModuleLinker.Linked l : loaded) {
            if (l.module().name().equals(m.name())) throw new KernelFormatException(m.source() + ": module " + m.name() + " is loaded already");
        }
        long at = base != null ? base : next != null ? next : defaultBase(m);
        // (kernels before 6.4 put a module's core in one allocation: the memory types in another order)
        kernelloader.image.KernelVersion v = kernel.version().orNull();
        ModuleLayout layout = ModuleLayout.of(m, at, perCpu, sections, v != null && !v.atLeast(6, 4));
        ModuleLinker.Linked l = ModuleLinker.link(m, layout, exports);
        exports.add(m.name(), l.exports(), true);
        loaded.add(l);
        long end = next == null ? at : next;
        for (long[] mem : layout.memory().values()) {
            long e = (mem[0] + mem[1] + 0xfff) & ~0xfffL;
            if (Long.compareUnsigned(e, end) > 0 && Long.compareUnsigned(e - at, 1L << 40) < 0) end = e;   // not where --sections put it far away
        }
        next = end;
        return l;
    }

    /**
     * {@code modules} in an order the kernel accepts: each after the modules its .modinfo
     * depends= names, among those given (the rest stay in the order given). A cycle is refused.
     */
    public static List<KernelModuleFile> inLoadOrder(List<KernelModuleFile> modules) throws KernelFormatException {
        Map<String, KernelModuleFile> byName = new LinkedHashMap<>();
        for (KernelModuleFile m : modules) {
            if (byName.putIfAbsent(m.name(), m) != null) throw new KernelFormatException("module " + m.name() + " is given twice");
        }
        List<KernelModuleFile> out = new ArrayList<>();
        Map<String, Integer> state = new HashMap<>();   // 1 visiting, 2 done
        for (KernelModuleFile m : modules) visit(m, byName, state, out, new ArrayList<>());
        return out;
    }

    private static void visit(KernelModuleFile m, Map<String, KernelModuleFile> byName, Map<String, Integer> state,
                              List<KernelModuleFile> out, List<String> path) throws KernelFormatException {
        Integer s = state.get(m.name());
        if (s != null && s == 2) return;
        path.add(m.name());
        if (s != null) throw new KernelFormatException("modules depend on each other in a cycle: " + String.join(" -> ", path));
        state.put(m.name(), 1);
        for (String d : m.modinfo().depends()) {
            KernelModuleFile dep = byName.get(d.replace('-', '_'));
            if (dep != null) visit(dep, byName, state, out, path);
        }
        state.put(m.name(), 2);
        path.remove(path.size() - 1);
        out.add(m);
    }
}
