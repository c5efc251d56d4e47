package kernelloader.dump;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import kernelloader.image.ByteView;
import kernelloader.image.ElfHeader;
import kernelloader.image.ElfProgramHeader;

/**
 * The kernel's VMCOREINFO: the "KEY=value" lines a kernel built with CONFIG_VMCORE_INFO
 * (CONFIG_CRASH_CORE before 6.9) writes at boot for crash tools (kernel/vmcore_info.c,
 * arch/x86/kernel/machine_kexec_64.c, arch/arm64/kernel/vmcore_info.c): OSRELEASE, PAGESIZE,
 * SYMBOL(name)=hex address, NUMBER(name)=decimal or 0x-hex, OFFSET/SIZE/LENGTH, and
 * KERNELOFFSET=hex, the KASLR slide.
 *
 * <p>It is found two ways: as an ELF note named "VMCOREINFO" (kdump's /proc/vmcore, QEMU's
 * dump-guest-memory with its vmcoreinfo device) and as text in the dumped memory itself (the
 * kernel keeps it in vmcoreinfo_data and in its note buffer, so any dump of such a kernel holds
 * it). Its values are evidence, not truth: {@link RunningKernel} checks them against kallsyms.
 */
public final class VmcoreInfo {
    /** More than any kernel writes (a page: VMCOREINFO_BYTES). */
    private static final int MAX_TEXT = 4096;
    /** The ELF note's type in kdump's vmcore (crash_core.h: NT_VMCOREINFO... is not in elf.h; kexec uses 0). */
    private static final String NOTE_NAME = "VMCOREINFO";

    private final Map<String, String> entries;
    private final String where;

    /** A stand-in for "looked for, found none", for callers that remember the search. */
    public static final VmcoreInfo NOT_FOUND = new VmcoreInfo(Map.of(), "nowhere");

    private VmcoreInfo(Map<String, String> entries, String where) {
        this.entries = entries;
        this.where = where;
    }

    /** Where it was read: "the ELF core's VMCOREINFO note", "the kernel's VMCOREINFO text at dump offset 0x…". */
    public String where() { return where; }

    /** OSRELEASE: the release the kernel's banner names (uname -r). */
    public String release() { return entries.get("OSRELEASE"); }

    /** KERNELOFFSET: the KASLR slide (runtime _text minus link-time _text), or null where the architecture writes none. */
    public Long kernelOffset() { return hex(entries.get("KERNELOFFSET")); }

    /** SYMBOL(name): the symbol's runtime address, or null. */
    public Long symbol(String name) { return hex(entries.get("SYMBOL(" + name + ")")); }

    /** NUMBER(name): decimal (possibly negative) or 0x-hexadecimal, or null. */
    public Long number(String name) {
        String v = entries.get("NUMBER(" + name + ")");
        if (v == null) return null;
        try {
            return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** How many lines it has. */
    public int size() { return entries.size(); }

    private static Long hex(String v) {
        if (v == null || v.isEmpty() || v.length() > 16) return null;
        try {
            return Long.parseUnsignedLong(v, 16);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The lines of {@code text} (up to its first NUL); null when it does not start with OSRELEASE= as the kernel writes it. */
    static VmcoreInfo parse(String text, String where) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq <= 0) {
                if (line.isEmpty()) continue;
                break;
            }
            m.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
        }
        String release = m.get("OSRELEASE");
        // "OSRELEASE=%s" is the format string in the kernel's rodata, not a VMCOREINFO
        if (release == null || release.isEmpty() || release.contains("%") || !m.containsKey("PAGESIZE")) return null;
        return new VmcoreInfo(m, where);
    }

    /**
     * The first VMCOREINFO in the memory {@code data} whose OSRELEASE is {@code release} (or the
     * first at all, with null); null when there is none.
     */
    public static VmcoreInfo inMemory(byte[] data, int length, String release) {
        byte[] needle = "OSRELEASE=".getBytes(StandardCharsets.ISO_8859_1);
        for (int p = ByteView.indexOf(data, length, needle, 0); p >= 0; p = ByteView.indexOf(data, length, needle, p + 1)) {
            VmcoreInfo v = parse(textAt(data, length, p), String.format("the kernel's VMCOREINFO text at 0x%x of the dump's memory", p));
            if (v != null && (release == null || release.equals(v.release()))) return v;
        }
        return null;
    }

    /**
     * Every VMCOREINFO in the memory {@code data}, at most {@code max} (a file holding several
     * kernels' memory has one, or two copies, per kernel), in file order.
     */
    public static java.util.List<VmcoreInfo> allInMemory(byte[] data, int length, int max) {
        java.util.List<VmcoreInfo> out = new java.util.ArrayList<>();
        byte[] needle = "OSRELEASE=".getBytes(StandardCharsets.ISO_8859_1);
        for (int p = ByteView.indexOf(data, length, needle, 0); p >= 0 && out.size() < max; p = ByteView.indexOf(data, length, needle, p + 1)) {
            VmcoreInfo v = parse(textAt(data, length, p), String.format("the kernel's VMCOREINFO text at 0x%x of the dump's memory", p));
            if (v != null) out.add(v);
        }
        return out;
    }

    /** The VMCOREINFO note of an ELF core (kdump's vmcore, QEMU with -device vmcoreinfo), or null. */
    public static VmcoreInfo inNotes(ElfHeader elf, byte[] data, int length) {
        ByteView v = new ByteView(data, length, elf.order());
        for (ElfProgramHeader p : elf.programHeaders()) {
            if (p.type() != PT_NOTE || p.offset() < 0 || p.fileSize() <= 0 || p.offset() + p.fileSize() > length) continue;
            long at = p.offset(), end = p.offset() + p.fileSize();
            // Elf32_Nhdr and Elf64_Nhdr are alike: three 4-byte words, name and desc 4-aligned
            while (at + 12 <= end) {
                long nameSize = v.u32((int) at), descSize = v.u32((int) at + 4);
                long name = at + 12, desc = name + align4(nameSize), next = desc + align4(descSize);
                if (nameSize > 64 || descSize > (1 << 20) || next > end) break;
                String n = new String(data, (int) name, (int) Math.max(0, nameSize - 1), StandardCharsets.ISO_8859_1);
                if (n.equals(NOTE_NAME)) {
                    VmcoreInfo info = parse(new String(data, (int) desc, (int) descSize, StandardCharsets.ISO_8859_1).split("\0", 2)[0],
                            "the ELF core's VMCOREINFO note");
                    if (info != null) return info;
                }
                at = next;
            }
        }
        return null;
    }

    private static final int PT_NOTE = 4;

    private static long align4(long n) { return (n + 3) & ~3L; }

    private static String textAt(byte[] data, int length, int p) {
        int end = p;
        while (end < length && end - p < MAX_TEXT && data[end] != 0) end++;
        return new String(data, p, end - p, StandardCharsets.ISO_8859_1);
    }
}
