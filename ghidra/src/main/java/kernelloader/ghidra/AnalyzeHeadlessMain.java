package kernelloader.ghidra;

import ghidra.app.util.headless.AnalyzeHeadless;
import ghidra.framework.HeadlessGhidraApplicationConfiguration;

/**
 * Ghidra's analyzeHeadless for the Ghidra on the class path (the single jar or an installation's jars): starts Ghidra, makes our loader and
 * analyzer known to it (the jar's class list does not name them), then hands every argument to
 * Ghidra's own AnalyzeHeadless, so `-import FILE -loader LinuxKernelLoader -postScript ...` work
 * as with an installation.
 */
public final class AnalyzeHeadlessMain {
    private AnalyzeHeadlessMain() {}

    public static void main(String[] args) throws Exception {
        // Ghidra's own logging: analyzeHeadless reports (and scripts print) through it
        GhidraStart.start(new HeadlessGhidraApplicationConfiguration());
        new AnalyzeHeadless().launch(GhidraStart.layout(), args);
    }
}
