package kernelloader.module;

import java.util.Map;

/**
 * The relocator of a module's architecture, by its e_machine: one place to add an
 * architecture (with its class, and, where the kernel sizes sections for it before the layout,
 * a case in {@link ModuleLayout}).
 */
final class Relocators {
    static final int EM_ARM = 40, EM_X86_64 = 62, EM_AARCH64 = 183;
    /** For the refusal of the others. */
    static final String SUPPORTED = "x86-64, arm64 and 32-bit arm";

    private Relocators() {}

    static boolean supports(int machine) {
        return switch (machine) {
            case EM_X86_64, EM_AARCH64, EM_ARM -> true;
            default -> false;
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
            case EM_ARM -> ArmRelocator.of(m, layout, bytes, values, exports.kernelSymbol("ftrace_caller"));
            default -> throw new IllegalArgumentException("no relocator for e_machine " + m.elf().machine());
        };
    }
}
