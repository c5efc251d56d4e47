package kernelloader.kernel;

import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.LayoutInference;
import kernelloader.verify.ContentChecks;
import kernelloader.verify.Verification;

/** A reading of a table through a layout, and what the content checks made of it. */
record Reading(KernelLayout layout, Verification checks) {
    static Reading of(KernelImage img, KallsymsTable t, KernelLayout given, KernelOptions options) {
        ContentChecks.Checked c = ContentChecks.reading(img, t,
                () -> given != null ? given : LayoutInference.infer(img, t, options.overrides()));
        return new Reading(c.layout(), c.verification());
    }

    static String describe(KallsymsTable t) {
        return String.format("a %d-bit %s reading of %d symbols", t.bits(),
                t.layout() == null ? t.baseEvidence() : t.layout().era(), t.size());
    }
}
