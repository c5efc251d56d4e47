package kernelloader.isf;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The types of the kernel variables Volatility 3's Linux plugins read as objects
 * (object_from_symbol: init_task for pslist, modules for lsmod, prb for dmesg, ...). A kernel's
 * BTF types only its per-cpu variables, and no DWARF is at hand, so these come from their
 * declarations in the kernel's source, which have not changed since the plugins were written
 * (init/init_task.c, kernel/module/main.c, kernel/printk/printk.c, ...). Each is written only
 * where the kernel has the symbol and its BTF the type; the linker's section symbols (_text,
 * _etext, ...) are char arrays, as the kernel declares them (asm-generic/sections.h).
 */
final class KnownVariables {
    private KnownVariables() {}

    /** A variable's type: a struct/union/base type's name, how many pointers to it, an array count (-1: not an array). */
    record Declared(String kind, String name, int pointers, int count) {}

    static final Map<String, Declared> TYPES = new LinkedHashMap<>();

    private static void struct(String var, String type) { TYPES.put(var, new Declared("struct", type, 0, -1)); }
    private static void structPointer(String var, String type) { TYPES.put(var, new Declared("struct", type, 1, -1)); }
    private static void base(String var, String type) { TYPES.put(var, new Declared("base", type, 0, -1)); }

    static {
        struct("init_task", "task_struct");
        struct("init_mm", "mm_struct");
        struct("init_files", "files_struct");
        struct("init_fs", "fs_struct");
        struct("init_net", "net");
        struct("init_nsproxy", "nsproxy");
        struct("init_uts_ns", "uts_namespace");
        struct("init_pid_ns", "pid_namespace");
        struct("init_cred", "cred");
        struct("modules", "list_head");
        struct("net_namespace_list", "list_head");
        struct("super_blocks", "list_head");
        struct("tty_drivers", "list_head");
        struct("prog_idr", "idr");
        struct("keyboard_notifier_list", "atomic_notifier_head");
        struct("socket_file_ops", "file_operations");
        struct("sockfs_dentry_operations", "dentry_operations");
        structPointer("module_kset", "kset");
        structPointer("prb", "printk_ringbuffer");
        structPointer("mem_map", "page");
        TYPES.put("log_buf", new Declared("base", "char", 1, -1));
        base("log_buf_len", "unsigned int");
        base("log_first_idx", "unsigned int");
        base("log_next_idx", "unsigned int");
        base("cap_last_cap", "int");
        base("pidhash_shift", "unsigned int");
        base("vmemmap_base", "long unsigned int");
        base("page_offset_base", "long unsigned int");
        base("vmalloc_base", "long unsigned int");
        TYPES.put("idt_table", new Declared("struct", "gate_struct", 0, 256));
        for (String s : new String[] {"_text", "_stext", "_etext", "_sdata", "_edata", "__bss_start", "__bss_stop", "_end",
                "__init_begin", "__init_end", "__start_rodata", "__end_rodata", "_sinittext", "_einittext"}) {
            TYPES.put(s, new Declared("base", "char", 0, 0));
        }
    }
}
