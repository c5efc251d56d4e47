package kernelloader.ghidra;

import ghidra.GhidraJarApplicationLayout;
import ghidra.app.util.headless.AnalyzeHeadless;
import ghidra.framework.Application;
import ghidra.framework.HeadlessGhidraApplicationConfiguration;

/**
 * Ghidra's analyzeHeadless for the single-jar Ghidra: starts Ghidra, makes our loader and
 * analyzer known to it (the jar's class list does not name them), then hands every argument to
 * Ghidra's own AnalyzeHeadless, so `-import FILE -loader LinuxKernelLoader -postScript ...` work
 * as with an installation.
 */
public final class AnalyzeHeadlessMain {
    private AnalyzeHeadlessMain() {}

    public static void main(String[] args) throws Exception {
        GhidraJarApplicationLayout layout = new GhidraJarApplicationLayout();
        if (!Application.isInitialized()) {
            Application.initializeApplication(layout, new HeadlessGhidraApplicationConfiguration());
        }
        ExtensionRegistration.register();
        new AnalyzeHeadless().launch(layout, args);
    }
}
