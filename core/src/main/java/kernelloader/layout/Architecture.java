package kernelloader.layout;

import java.nio.ByteOrder;

/**
 * The architectures a Linux kernel is found for, and everything we need to know about each in
 * one place: ELF machine numbers, Ghidra language and compiler spec, and the symbol-name
 * prefixes that only that architecture's kernels carry (for images with no header at all).
 */
public enum Architecture {
    X86("x86", 3, 62, new String[] {"x86_"}),
    ARM("ARM", 40, 0, new String[] {"__aeabi_", "cpu_v7_", "cpu_arm"}),
    AARCH64("AArch64", 0, 183, new String[] {"arm64_"}),
    MIPS("MIPS", 8, 8, new String[] {"mips_", "r4k_"}),
    POWERPC("PowerPC", 20, 21, new String[] {"ppc_", "ppc64_"}),
    SPARC("SPARC", 2, 43, new String[] {"sparc_", "sparc64_"}),
    SUPERH("SuperH", 42, 0, new String[] {}),
    RISCV("RISC-V", 243, 243, new String[] {"riscv_"}),
    S390X("s390x", 0, 22, new String[] {"s390_"}),
    LOONGARCH("LoongArch", 258, 258, new String[] {"loongarch_"});

    private final String displayName;
    private final int elfMachine32;
    private final int elfMachine64;
    private final String[] symbolPrefixes;

    Architecture(String displayName, int elfMachine32, int elfMachine64, String[] symbolPrefixes) {
        this.displayName = displayName;
        this.elfMachine32 = elfMachine32;
        this.elfMachine64 = elfMachine64;
        this.symbolPrefixes = symbolPrefixes;
    }

    public String displayName() { return displayName; }
    String[] symbolPrefixes() { return symbolPrefixes; }

    /** ELF e_machine for a kernel of this word size (0 if none). */
    public int elfMachine(int bits) {
        return bits == 64 ? elfMachine64 : elfMachine32;
    }

    /** The architecture of an ELF e_machine, or null. */
    public static Architecture ofElfMachine(int machine) {
        return switch (machine) {
            case 3, 62 -> X86;
            case 40 -> ARM;
            case 183 -> AARCH64;
            case 8, 10 -> MIPS;
            case 20, 21 -> POWERPC;
            case 2, 18, 43 -> SPARC;
            case 42 -> SUPERH;
            case 243 -> RISCV;
            case 22 -> S390X;
            case 258 -> LOONGARCH;
            default -> null;
        };
    }

    /**
     * The architecture of a Ghidra processor name (a language ID's first field: "AARCH64",
     * "PowerPC", ...), or null: the reverse of {@link #ghidraLanguage}.
     */
    public static Architecture ofGhidraProcessor(String processor) {
        for (Architecture a : values()) {
            for (int bits : new int[] {32, 64}) {
                String id = a.ghidraLanguage(bits, ByteOrder.LITTLE_ENDIAN);
                if (id != null && id.substring(0, id.indexOf(':')).equalsIgnoreCase(processor)) return a;
            }
        }
        return null;
    }

    /** A container's architecture hint (the names the container readers use), or null. */
    public static Architecture ofHint(String hint) {
        if (hint == null) return null;
        return hint.equals("X86_64") ? X86 : valueOf(hint);
    }

    /**
     * The Ghidra language ID for this architecture, word size and byte order, or null where
     * Ghidra has no processor (s390x).
     */
    public String ghidraLanguage(int bits, ByteOrder order) {
        String e = order == ByteOrder.BIG_ENDIAN ? "BE" : "LE";
        return switch (this) {
            case X86 -> bits == 64 ? "x86:LE:64:default" : "x86:LE:32:default";
            case ARM -> "ARM:" + e + ":32:v8";
            case AARCH64 -> "AARCH64:" + e + ":64:v8A";
            case MIPS -> "MIPS:" + e + ":" + bits + ":default";
            case POWERPC -> "PowerPC:" + e + ":" + bits + ":default";
            case SPARC -> "sparc:BE:" + bits + ":default";
            case SUPERH -> "SuperH4:" + e + ":32:default";
            case RISCV -> bits == 64 ? "RISCV:LE:64:RV64GC" : "RISCV:LE:32:RV32GC";
            case S390X -> null;
            case LOONGARCH -> "Loongarch:LE:64:lp64d";
        };
    }

    /** The compiler spec ID to pair with {@link #ghidraLanguage}: Linux kernels are GCC-built. */
    public String compilerSpec() {
        return switch (this) {
            case X86, RISCV -> "gcc";
            default -> "default";
        };
    }

    /**
     * The alignment every instruction start has (1 where instructions have any length: x86).
     * ARM is 2 because Thumb-2 kernels exist; the others' kernels have no compressed encoding
     * in the kernel's own text (RISC-V and s390x instructions are 2-byte multiples).
     */
    public int instructionAlignment() {
        return switch (this) {
            case X86 -> 1;
            case ARM, SUPERH, RISCV, S390X -> 2;
            case AARCH64, MIPS, POWERPC, SPARC, LOONGARCH -> 4;
        };
    }

    /** Whether Ghidra 10.3 (the embedded one) has this language; LoongArch came with 11.0. */
    public boolean inGhidra10_3() {
        return this != S390X && this != LOONGARCH;
    }
}
