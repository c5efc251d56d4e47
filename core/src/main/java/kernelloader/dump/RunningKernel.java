package kernelloader.dump;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import kernelloader.image.ByteView;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.Architecture;
import kernelloader.layout.Inference;
import kernelloader.layout.KernelLayout;

/**
 * A kernel found running in a memory dump: where its image lies in the dump, its runtime
 * {@code _text}, the KASLR slide (runtime _text minus link-time _text) and the physical address it
 * was loaded at, each with its evidence, and how the image's bytes map to the dump's file.
 *
 * <p>The table a dump holds is the running kernel's (kallsyms_relative_base and every absolute
 * pointer were relocated at boot), so its addresses are runtime addresses; what a dump cannot say
 * by itself is where the kernel was linked. That comes from VMCOREINFO's KERNELOFFSET (checked:
 * its OSRELEASE is the banner's release, its SYMBOL(_stext) is kallsyms' _stext), or, for x86-64
 * alone, from the link address every x86-64 kernel has by default (said to be assumed). The
 * physical address comes from the ELF core's segments, else from VMCOREINFO's phys_base (x86-64)
 * or kimage_voffset (arm64), else from those variables in the kernel's own data.
 *
 * @param dump         "ELF core", "LiME" or "raw memory"
 * @param textOffset   where _text lies in the memory searched (the core laid out by physical address, or the raw file)
 * @param runtimeText  _text's address in the running kernel
 * @param slide        the KASLR slide, or null where nothing says it
 * @param physicalText _text's physical address, or null where nothing says it
 * @param vmcoreinfo   the kernel's VMCOREINFO, or null
 * @param notes        evidence looked at and not taken (a VMCOREINFO of another kernel, a disagreement)
 * @param core         the dump's memory ranges (an ELF core, a LiME file), or null for a raw dump
 * @param fileBase     where the memory searched starts in the file (a window of a file over 2 GiB; else 0)
 */
public record RunningKernel(String dump, long textOffset, long runtimeText, Inference<Long> slide, Inference<Long> physicalText,
                            VmcoreInfo vmcoreinfo, List<String> notes, PhysicalMemory core, long fileBase) {

    /** x86-64's __START_KERNEL_map: the kernel's virtual mapping, physical 0 at this address. */
    static final long X86_64_START_KERNEL_MAP = 0xffffffff80000000L;
    /** x86-64's link-time _text with the default CONFIG_PHYSICAL_START (0x1000000). */
    static final long X86_64_DEFAULT_TEXT = 0xffffffff81000000L;
    /** x86-64 KASLR moves the kernel in steps of CONFIG_PHYSICAL_ALIGN (2 MiB by default; at least this). */
    static final long X86_64_SLIDE_STEP = 0x200000L;

    /** Link-time _text (runtime _text less the slide), or null where the slide is unknown. */
    public Long linkText() {
        return slide == null ? null : runtimeText - slide.value();
    }

    /** The physical address of the dump's first byte (of the core's memory as laid out, or of the raw file), or null. */
    public Long dumpStart() {
        if (core != null && core.laidOut()) return core.start();
        return physicalText == null ? null : physicalText.value() - textOffset - fileBase;
    }

    /** This kernel found in memory that starts {@code base} bytes into the file (a window of a large file). */
    public RunningKernel inFileAt(long base) {
        return new RunningKernel(dump, textOffset, runtimeText, slide, physicalText, vmcoreinfo, notes, core, fileBase + base);
    }

    /** The physical address of {@code va}, a runtime address in the kernel image, or null. */
    public Long physicalOf(long va) {
        return physicalText == null ? null : physicalText.value() + (va - runtimeText);
    }

    /** The dump file's offset of {@code va} (where its byte lies in the raw file or the ELF core), or -1. */
    public long fileOffsetOf(long va) {
        long inMemory = textOffset + (va - runtimeText);
        if (core == null || !core.laidOut()) return fileBase + inMemory;
        long off = core.fileOffsetOf(core.start() + inMemory);
        return off < 0 ? -1 : fileBase + off;
    }

    /**
     * What a dump says of the kernel the table {@code t} (read from the kernel's image cut out of
     * the dump, so at runtime addresses) belongs to.
     *
     * @param image      the kernel's image cut out of the dump, from _text on
     * @param layout     its layout (runtime addresses)
     * @param vmcoreinfo the VMCOREINFO found (notes first, then the memory), or null
     * @param release    the release the banner names, or null
     */
    public static RunningKernel of(String dump, PhysicalMemory core, long textOffset, KallsymsTable t, ByteView image,
                                   KernelLayout layout, VmcoreInfo vmcoreinfo, String release) {
        List<String> notes = new ArrayList<>();
        long text = t.addressOf("_text");
        Architecture arch = layout.arch() == null ? null : layout.arch().value();
        VmcoreInfo v = vmcoreinfo;
        if (v != null) {
            Long stext = v.symbol("_stext"), ours = t.addressOf("_stext");
            String other = null;
            if (release != null && !release.equals(v.release())) {
                other = "its OSRELEASE " + v.release() + " is not the banner's " + release;
            } else if (stext != null && ours != null && !stext.equals(ours)) {
                other = String.format("its SYMBOL(_stext) 0x%x is not kallsyms' _stext 0x%x", stext, ours);
            }
            if (other != null) {
                notes.add("VMCOREINFO in " + v.where() + " not taken: " + other + " (another kernel's, or another boot's)");
                v = null;
            }
        }
        Inference<Long> slide = slide(v, text, arch, t.bits());
        Inference<Long> physical = physical(core, textOffset, v, text, arch, t, image, layout, notes);
        return new RunningKernel(dump, textOffset, text, slide, physical, v, Collections.unmodifiableList(notes), core, 0);
    }

    private static Inference<Long> slide(VmcoreInfo v, long text, Architecture arch, int bits) {
        if (v != null && v.kernelOffset() != null) {
            return Inference.certain(v.kernelOffset(), String.format("KERNELOFFSET=%x in %s", v.kernelOffset(), v.where()));
        }
        if (arch == Architecture.X86 && bits == 64 && Long.compareUnsigned(text, X86_64_DEFAULT_TEXT) >= 0
                && ((text - X86_64_DEFAULT_TEXT) % X86_64_SLIDE_STEP) == 0) {
            return Inference.weak(text - X86_64_DEFAULT_TEXT, String.format(
                    "assumed: x86-64's default link address of _text, 0x%x (no VMCOREINFO in the dump says it)", X86_64_DEFAULT_TEXT));
        }
        return null;
    }

    private static Inference<Long> physical(PhysicalMemory core, long textOffset, VmcoreInfo v, long text, Architecture arch,
                                            KallsymsTable t, ByteView image, KernelLayout layout, List<String> notes) {
        Inference<Long> fromCore = core != null && core.laidOut()
                ? Inference.certain(core.start() + textOffset, String.format("the %s's memory from physical 0x%x", core.kind(), core.start()))
                : null;
        Inference<Long> stated = null;
        if (t.bits() == 64 && arch == Architecture.X86) {
            Long physBase = v == null ? null : v.number("phys_base");
            if (physBase != null) {
                stated = Inference.strong(text - X86_64_START_KERNEL_MAP + physBase, "VMCOREINFO's phys_base, " + physBase);
            } else {
                Long b = variable(t, image, layout, "phys_base");
                if (b != null) stated = Inference.strong(text - X86_64_START_KERNEL_MAP + b, String.format("the kernel's phys_base, 0x%x", b));
            }
        } else if (t.bits() == 64 && arch == Architecture.AARCH64) {
            Long voff = v == null ? null : v.number("kimage_voffset");
            if (voff != null) {
                stated = Inference.strong(text - voff, String.format("VMCOREINFO's kimage_voffset, 0x%x", voff));
            } else {
                Long o = variable(t, image, layout, "kimage_voffset");
                if (o != null) stated = Inference.strong(text - o, String.format("the kernel's kimage_voffset, 0x%x", o));
            }
        }
        if (stated != null && (stated.value() < 0 || (core == null && stated.value() < textOffset))) {
            notes.add(String.format("%s puts _text at physical 0x%x, before the dump's first byte: not taken", stated.evidence(), stated.value()));
            stated = null;
        }
        if (fromCore != null) {
            if (stated != null && !stated.value().equals(fromCore.value())) {
                notes.add(String.format("%s puts _text at physical 0x%x, the core's segments at 0x%x", stated.evidence(), stated.value(),
                        fromCore.value()));
            }
            return fromCore;
        }
        return stated;
    }

    /** A word of the kernel's data at {@code name}'s runtime address, or null where it is not in the image. */
    private static Long variable(KallsymsTable t, ByteView image, KernelLayout layout, String name) {
        Long at = t.addressOf(name);
        if (at == null) return null;
        long off = layout.fileOffsetOf(at);
        int size = t.bits() / 8;
        if (off < 0 || !image.fits(off, size)) return null;
        return image.word((int) off, size);
    }
}
