package kernelloader.kernel;

import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.Inference;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.LayoutInference;
import kernelloader.verify.ContentChecks;
import kernelloader.verify.Verification;

/** A reading of a table through a layout, and what the content checks made of it. */
record Reading(KernelLayout layout, Verification checks) {
    /**
     * The table read through {@code given} (a program's memory map), or through the layout
     * inferred for it; where the inferred base fails the checks, through each other base the
     * table suggests (LayoutInference.otherBases), the first that passes.
     */
    static Reading of(KernelImage img, KallsymsTable t, KernelLayout given, KernelOptions options) {
        ContentChecks.Checked c = ContentChecks.reading(img, t,
                () -> given != null ? given : LayoutInference.infer(img, t, options.overrides()));
        Reading first = new Reading(c.layout(), c.verification());
        if (given != null || !first.checks().refused()) return first;
        int banner = Kernel.versionBannerOffset(img);
        for (Inference<Long> base : LayoutInference.otherBases(img, t, options.overrides(), c.layout().base().value(), banner)) {
            KernelLayout l = LayoutInference.at(img, t, options.overrides(), base);
            Verification v = ContentChecks.reading(img, t, l);
            if (!v.refused()) return new Reading(l, v);
        }
        return first;
    }

    static String describe(KallsymsTable t) {
        return String.format("a %d-bit %s reading of %d symbols", t.bits(),
                t.layout() == null ? t.baseEvidence() : t.layout().era(), t.size());
    }
}
