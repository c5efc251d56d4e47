package kernelloader.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import kernelloader.image.ElfSectionHeader;

/**
 * The places the kernel rewrites in a module's code when it loads it, each named by a table of
 * the module's own (x86-64: arch/x86/kernel/alternative.c, module.c's module_finalize, ftrace,
 * jump labels, static calls): what a linked module's bytes cannot show, since the rewriting
 * depends on the CPU the kernel runs on and on the kernel's state.
 * <pre>
 *   .altinstructions             alternatives: struct alt_instr (s32 instr_offset, s32 repl_offset, u32 flags, u8 len, u8 repl_len)
 *   .smp_locks                   lock prefixes, made DS prefixes on one CPU (s32 each)
 *   .retpoline_sites             indirect calls and jumps through retpoline thunks (s32 each; up to 6 bytes)
 *   .return_sites                jumps to the return thunk (s32 each; 5 bytes)
 *   .call_sites                  calls given call depth accounting (s32 each; 5 bytes)
 *   .ibt_endbr_seal              ENDBR64s sealed (s32 each; 4 bytes)
 *   __mcount_loc, __patchable_function_entries   ftrace's call sites, made NOPs (u64 addresses; 5 bytes, after an ENDBR64)
 *   __jump_table                 jump labels: struct jump_entry (s32 code, s32 target, long key; 5 bytes)
 *   .static_call_sites           static calls: struct static_call_site (s32 addr, s32 key; 5 bytes)
 * </pre>
 * arm64 (arch/arm64/kernel/alternative.c, module.c's module_finalize, ftrace, jump labels):
 * <pre>
 *   .altinstructions             alternatives: struct alt_instr (s32 orig_offset, s32 alt_offset, u16 cpucap, u8 orig_len, u8 alt_len)
 *   __patchable_function_entries ftrace's sites (u64 addresses of each function's patchable NOPs: with
 *                                DYNAMIC_FTRACE_WITH_CALL_OPS, 2 before the entry, which become the ops
 *                                literal, and 2 at it, the first made "mov x9, x30": 16 bytes)
 *   __jump_table                 jump labels: struct jump_entry (s32 code, s32 target, long key; 4 bytes)
 * </pre>
 */
public final class PatchSites {
    private PatchSites() {}

    /** One place the kernel may rewrite: {@code size} bytes at {@code address}, named by {@code table}. */
    public record Site(long address, int size, String table) {}

    /** Every place the kernel may rewrite in {@code l} (x86-64, arm64), read from its relocated tables. */
    public static List<Site> of(ModuleLinker.Linked l) {
        if (l.module().elf().machine() == Relocators.EM_AARCH64) return ofArm64(l);
        List<Site> out = new ArrayList<>();
        if (l.module().elf().machine() != Relocators.EM_X86_64) return out;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            byte[] b = l.sections().get(p.index());
            if (b == null) continue;
            ByteBuffer v = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            long at = p.address();
            switch (p.name()) {
                case ".altinstructions" -> {
                    for (int i = 0; i + 14 <= b.length; i += 14) {
                        add(out, at + i + v.getInt(i), b[i + 12] & 0xff, p.name());
                    }
                }
                case ".smp_locks" -> relative(out, v, b.length, at, 1, p.name());
                case ".retpoline_sites" -> relative(out, v, b.length, at, 6, p.name());
                case ".return_sites", ".call_sites" -> relative(out, v, b.length, at, 5, p.name());
                case ".ibt_endbr_seal" -> relative(out, v, b.length, at, 4, p.name());
                case "__mcount_loc", "__patchable_function_entries" -> {
                    // (the function's start: the call follows its ENDBR64 where there is one, ftrace_call_adjust)
                    for (int i = 0; i + 8 <= b.length; i += 8) add(out, v.getLong(i), 9, p.name());
                }
                case "__jump_table" -> {
                    for (int i = 0; i + 16 <= b.length; i += 16) add(out, at + i + v.getInt(i), 5, p.name());
                }
                case ".static_call_sites" -> {
                    for (int i = 0; i + 8 <= b.length; i += 8) add(out, at + i + v.getInt(i), 5, p.name());
                }
                default -> { }
            }
        }
        return out;
    }

    private static List<Site> ofArm64(ModuleLinker.Linked l) {
        List<Site> out = new ArrayList<>();
        for (ModuleLayout.Placed p : l.layout().sections()) {
            byte[] b = l.sections().get(p.index());
            if (b == null) continue;
            ByteBuffer v = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            long at = p.address();
            switch (p.name()) {
                case ".altinstructions" -> {
                    for (int i = 0; i + 12 <= b.length; i += 12) add(out, at + i + v.getInt(i), b[i + 10] & 0xff, p.name());
                }
                case "__patchable_function_entries" -> {
                    for (int i = 0; i + 8 <= b.length; i += 8) add(out, v.getLong(i), 16, p.name());
                }
                case "__jump_table" -> {
                    for (int i = 0; i + 16 <= b.length; i += 16) add(out, at + i + v.getInt(i), 4, p.name());
                }
                default -> { }
            }
        }
        return out;
    }

    private static void relative(List<Site> out, ByteBuffer v, int length, long at, int size, String table) {
        for (int i = 0; i + 4 <= length; i += 4) add(out, at + i + v.getInt(i), size, table);
    }

    private static void add(List<Site> out, long site, int size, String table) {
        out.add(new Site(site, size, table));
    }

    /** Whether section {@code s} holds one of these tables. */
    static boolean isTable(ElfSectionHeader s) {
        return switch (s.name()) {
            case ".altinstructions", ".smp_locks", ".retpoline_sites", ".return_sites", ".call_sites", ".ibt_endbr_seal",
                 "__mcount_loc", "__patchable_function_entries", "__jump_table", ".static_call_sites" -> true;
            default -> false;
        };
    }
}
