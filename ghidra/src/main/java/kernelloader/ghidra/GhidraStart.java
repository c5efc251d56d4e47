package kernelloader.ghidra;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import ghidra.GhidraApplicationLayout;
import ghidra.GhidraJarApplicationLayout;
import ghidra.framework.Application;
import ghidra.framework.ApplicationConfiguration;
import ghidra.framework.HeadlessGhidraApplicationConfiguration;

/**
 * Starts the Ghidra this JVM runs, once, for ./kallsyms import and gui, our analyzeHeadless and
 * the tests. Two kinds: the embedded single jar (io.joern:ghidra, everything inside one jar, its
 * root at _Root/Ghidra in it) and an installation (GHIDRA_INSTALL_DIR's jars on the class path,
 * the root found from them). Only the single jar needs our classes registered with its
 * ClassSearcher; an installation finds them by itself, as it finds any extension's.
 */
public final class GhidraStart {
    private GhidraStart() {}

    /** True when Ghidra runs from the single jar, which carries its application root inside. */
    public static boolean isSingleJar() {
        return Application.class.getResource("/_Root/Ghidra/application.properties") != null;
    }

    /** The layout of the Ghidra on the class path. */
    public static GhidraApplicationLayout layout() throws IOException {
        return isSingleJar() ? new GhidraJarApplicationLayout() : new GhidraApplicationLayout();
    }

    /** Starts Ghidra headless (if it is not running yet), our log4j settings first. */
    public static synchronized void headless() throws Exception {
        start(new HeadlessGhidraApplicationConfiguration());
    }

    /**
     * Starts Ghidra with {@code config} if it is not running yet; makes our loader, analyzers
     * and exporters known to a single-jar Ghidra. Whatever Ghidra prints while starting goes to
     * stderr: stdout is for our summaries.
     */
    public static synchronized void start(ApplicationConfiguration config) throws Exception {
        if (!Application.isInitialized()) {
            if (System.getProperty("log4j.configurationFile") == null) {
                // Ghidra reads this property as a file path: hand it a copy of our stderr config
                Path conf = Files.createTempFile("kallsyms-log4j", ".xml");
                conf.toFile().deleteOnExit();
                try (InputStream in = GhidraStart.class.getResourceAsStream("/kernelloader/ghidra-log4j.xml")) {
                    Files.copy(in, conf, StandardCopyOption.REPLACE_EXISTING);
                }
                System.setProperty("log4j.configurationFile", conf.toString());
            }
            PrintStream out = System.out;
            System.setOut(System.err);
            try {
                Application.initializeApplication(layout(), config);
            } finally {
                System.setOut(out);
            }
        }
        if (isSingleJar()) ExtensionRegistration.register();
    }
}
