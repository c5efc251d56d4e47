package kernelloader.code;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.Architecture;
import kernelloader.layout.KernelLayout;

/**
 * The kernel's system call tables (sys_call_table, and where the kernel has them
 * ia32_sys_call_table, x32_sys_call_table, compat_sys_call_table): arrays of pointers to the
 * syscall functions, indexed by syscall number, read from the image with its relocations
 * applied (a relocatable arm64 kernel's table is all zeros in the file). A table runs from its
 * symbol to the next symbol, as long as every entry points at a text symbol. kallsyms lists the
 * tables only with CONFIG_KALLSYMS_ALL; without it (Debian's arm64 6.1, say) the tables are
 * found by what they hold: a run of at least {@value #MIN_RUN} words, each the address of a text
 * symbol, nine in ten of them syscall functions (a name holding "sys_"), named after the
 * wrappers it points at (__ia32_ : ia32_sys_call_table, a compat wrapper: compat_sys_call_table).
 */
public final class SyscallTables {
    /** The table symbols looked for, the native one first. */
    public static final List<String> NAMES = List.of("sys_call_table", "ia32_sys_call_table", "x32_sys_call_table", "compat_sys_call_table");
    /** No kernel has more syscalls than this (x86-64 7.x: about 470; with x32's 512 offset: under 1024). */
    static final int MAX_ENTRIES = 1024;
    /** The shortest run of syscall pointers taken for a table when kallsyms does not name it (every arch has over 280). */
    static final int MIN_RUN = 200;

    /** One entry: the syscall number, the function's address and its kallsyms name. */
    public record Entry(int number, long target, String function) {
        /** The syscall's own name: the function's without its arch wrapper prefix (__x64_sys_read: read). */
        public String syscall() {
            String n = function;
            for (String p : List.of("__x64_sys_", "__ia32_sys_", "__x32_compat_sys_", "__ia32_compat_sys_", "__arm64_compat_sys_",
                    "__arm64_sys_", "__riscv_compat_sys_", "__riscv_sys_", "__s390x_sys_", "__s390_sys_", "__se_compat_sys_", "__se_sys_",
                    "compat_sys_", "sys_", "__sys_", "ppc_", "__powerpc_sys_", "__loongarch_sys_")) {
                if (n.startsWith(p)) return n.substring(p.length());
            }
            return n;
        }
    }

    /** One table: its name, address, pointer width and entries (entry i is syscall i). */
    public record Table(String name, long address, int wordBytes, List<Entry> entries) {}

    private SyscallTables() {}

    public static List<Table> find(KallsymsTable k, KernelLayout layout, KernelImage relocated) {
        List<Table> out = new ArrayList<>();
        if (k == null || layout == null) return out;
        // the name each table word resolves to: a syscall wrapper's where one shares the address,
        // else a global's, else a local's (W: a syscall the kernel was configured without is a
        // weak alias of sys_ni_syscall, COND_SYSCALL)
        Map<Long, String> text = new HashMap<>();
        for (int pass = 0; pass < 3; pass++) {
            for (int i = 0; i < k.size(); i++) {
                char c = k.type(i);
                if (!isText(c)) continue;
                String n = k.name(i);
                if (pass == 0 && isWrapper(n)) text.putIfAbsent(k.address(i), n);
                else if (pass == 1 && Character.isUpperCase(c)) text.putIfAbsent(k.address(i), n);
                else if (pass == 2) text.putIfAbsent(k.address(i), n);
            }
        }
        FunctionExtents extents = FunctionExtents.of(k);
        int w = layout.bits() / 8;
        boolean thumbBit = layout.arch() != null && (layout.arch().value() == Architecture.ARM || layout.arch().value() == Architecture.MIPS);
        for (String name : NAMES) {
            Long at = k.addressOf(name);
            if (at == null) continue;
            long size = extents.extent(at, (long) MAX_ENTRIES * w);
            long off = layout.fileOffsetOf(at);
            if (off < 0) continue;
            List<Entry> entries = new ArrayList<>();
            for (int n = 0; (long) (n + 1) * w <= size && off + (long) (n + 1) * w <= relocated.length(); n++) {
                long v = word(relocated.data(), (int) (off + (long) n * w), w, layout.order() == java.nio.ByteOrder.BIG_ENDIAN);
                if (thumbBit) v &= ~1L;
                String f = text.get(v);
                if (f == null) break;
                entries.add(new Entry(n, v, f));
            }
            if (entries.size() >= 16) out.add(new Table(name, at, w, List.copyOf(entries)));
        }
        if (out.isEmpty()) out.addAll(scan(layout, relocated, text, w, thumbBit));
        return out;
    }

    /** Tables found by content (see the class comment), in address order. */
    static List<Table> scan(KernelLayout layout, KernelImage relocated, Map<Long, String> text, int w, boolean thumbBit) {
        List<Table> out = new ArrayList<>();
        boolean big = layout.order() == java.nio.ByteOrder.BIG_ENDIAN;
        byte[] data = relocated.data();
        for (var r : layout.regions()) {
            if (!r.initialized()) continue;
            long start = r.fileOffset(), end = Math.min(relocated.length(), r.fileOffset() + r.size());
            start += (w - (r.start() % w)) % w;
            List<Entry> run = new ArrayList<>();
            long runStart = -1;
            for (long off = start; off + w <= end; off += w) {
                long v = word(data, (int) off, w, big);
                if (thumbBit) v &= ~1L;
                String f = text.get(v);
                if (f != null && run.size() < MAX_ENTRIES) {
                    if (run.isEmpty()) runStart = r.start() + (off - r.fileOffset());
                    run.add(new Entry(run.size(), v, f));
                    continue;
                }
                take(run, runStart, w, out);
                run = new ArrayList<>();
            }
            take(run, runStart, w, out);
        }
        return out;
    }

    private static void take(List<Entry> run, long at, int w, List<Table> out) {
        if (run.size() < MIN_RUN) return;
        int sys = 0, compat = 0, ia32 = 0, x32 = 0;
        for (Entry e : run) {
            String f = e.function();
            if (f.contains("sys_")) sys++;
            if (f.contains("compat_sys_") && !f.startsWith("__ia32") && !f.startsWith("__x32")) compat++;
            if (f.startsWith("__ia32_")) ia32++;
            if (f.startsWith("__x32_")) x32++;
        }
        if (sys < 0.9 * run.size()) return;
        String name = ia32 > run.size() / 2 ? "ia32_sys_call_table" : x32 > 16 ? "x32_sys_call_table"
                : compat > run.size() / 4 ? "compat_sys_call_table" : "sys_call_table";
        for (Table t : out) if (t.name().equals(name)) return;   // the first of each name
        out.add(new Table(name, at, w, List.copyOf(run)));
    }

    private static boolean isWrapper(String n) {
        return n.startsWith("__x64_sys_") || n.startsWith("__arm64_sys_") || n.startsWith("__ia32_") || n.startsWith("__x32_")
                || n.startsWith("__riscv_sys_");
    }

    private static boolean isText(char c) {
        return c == 't' || c == 'T' || c == 'W' || c == 'w';
    }

    private static long word(byte[] b, int off, int w, boolean big) {
        long v = 0;
        for (int i = 0; i < w; i++) {
            int shift = big ? (w - 1 - i) * 8 : i * 8;
            v |= (b[off + i] & 0xffL) << shift;
        }
        return w == 4 ? v & 0xffffffffL : v;
    }
}
