package kernelloader.module;

import java.util.Map;

/**
 * The relocator of a module's architecture, by its e_machine: one place to add an
 * architecture (with its class, and, where the kernel sizes sections for it before the layout,
 * a case in {@link ModuleLayout}).
 */
final class Relocators {
    static final int EM_PPC64 = 21, EM_S390 = 22, EM_ARM = 40, EM_X86_64 = 62, EM_AARCH64 = 183, EM_RISCV = 243;
    /** MIPS (not EM_MIPS_RS3_LE, 10: the kernel's elf_check_arch takes EM_MIPS alone). */
    static final int EM_MIPS = 8;
    /** For the refusal of the others. */
    static final String SUPPORTED = "x86-64, arm64, 32-bit arm, riscv64, ppc64 (ELFv2), s390x and MIPS (RELA)";

    private Relocators() {}

    static boolean supports(int machine) {
        return switch (machine) {
            case EM_X86_64, EM_AARCH64, EM_ARM, EM_MIPS, EM_RISCV, EM_PPC64, EM_S390 -> true;
            default -> false;
        };
    }

    /**
     * The module's symbols as the architecture's module_frob_arch_sections leaves them for
     * simplify_symbols (ppc64's dedotify renames them); by default as the file has them.
     */
    static java.util.List<ModuleSymbol> symbols(KernelModuleFile m) {
        return switch (m.elf().machine()) {
            case EM_PPC64 -> Ppc64ModuleSections.dedotified(m);
            default -> m.symbols();
        };
    }

    /**
     * The relocator for {@code m}, laid out by {@code layout}, over the loaded sections'
     * {@code bytes} (index to bytes), its symbols at {@code values}, linked against {@code exports}.
     */
    static Relocator of(KernelModuleFile m, ModuleLayout layout, Map<Integer, byte[]> bytes, long[] values, ModuleLinker.Exports exports) {
        return switch (m.elf().machine()) {
            case EM_X86_64 -> new X86_64Relocator();
            case EM_AARCH64 -> Arm64Relocator.of(m, layout, bytes);
            case EM_MIPS -> new MipsRelocator(m.name(), m.elf().order());
            case EM_RISCV -> RiscvRelocator.of(m, layout, bytes, values);
            case EM_PPC64 -> Ppc64Relocator.of(m, layout, bytes, values);
            case EM_S390 -> S390Relocator.of(m, layout, bytes);
            case EM_ARM -> ArmRelocator.of(m, layout, bytes, values, exports.kernelSymbol("ftrace_caller"));
            default -> throw new IllegalArgumentException("no relocator for e_machine " + m.elf().machine());
        };
    }
}
