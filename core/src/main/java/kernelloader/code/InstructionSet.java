package kernelloader.code;

import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.Architecture;

/**
 * Whether a 32-bit ARM kernel's text is Thumb-2 (CONFIG_THUMB2_KERNEL, as Debian's armhf
 * kernels are): ARM instructions are 4 bytes long and ARM functions 4-aligned, so a kernel whose
 * functions start at 2 mod 4 in more than a few places is Thumb. kallsyms lists Thumb functions
 * at their even address (the Thumb bit cleared).
 */
public final class InstructionSet {
    /** Share of text symbols at 2 mod 4 above which the kernel is Thumb-2 (ARM kernels have none). */
    static final double THUMB_SHARE = 0.01;

    private InstructionSet() {}

    public static boolean thumb(KallsymsTable t, Architecture arch) {
        if (arch != Architecture.ARM || t == null) return false;
        int text = 0, halfAligned = 0;
        for (int i = 0; i < t.size(); i++) {
            char c = t.type(i);
            if (c != 't' && c != 'T') continue;
            text++;
            if ((t.address(i) & 3) == 2) halfAligned++;
        }
        return text > 0 && halfAligned > THUMB_SHARE * text;
    }
}
