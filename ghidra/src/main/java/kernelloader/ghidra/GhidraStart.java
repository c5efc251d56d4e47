package kernelloader.ghidra;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import ghidra.GhidraApplicationLayout;
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

    /** The layout of the Ghidra on the class path, with this source tree's extension folder as one of its modules (see {@link ExtensionModule}). */
    public static GhidraApplicationLayout layout() throws IOException {
        return isSingleJar() ? new ExtensionModule.Embedded() : new ExtensionModule.Installation();
    }

    /** Starts Ghidra headless (if it is not running yet), with our log4j settings: warnings and errors only, on stderr. */
    public static synchronized void headless() throws Exception {
        quietLogging();
        start(new HeadlessGhidraApplicationConfiguration());
    }

    /** Our log4j settings (warnings and errors only, on stderr) unless the user gave some. */
    static void quietLogging() throws IOException {
        if (System.getProperty("log4j.configurationFile") != null || Application.isInitialized()) return;
        // Ghidra reads this property as a file path: hand it a copy of our stderr config
        Path conf = Files.createTempFile("kallsyms-log4j", ".xml");
        conf.toFile().deleteOnExit();
        try (InputStream in = GhidraStart.class.getResourceAsStream("/kernelloader/ghidra-log4j.xml")) {
            Files.copy(in, conf, StandardCopyOption.REPLACE_EXISTING);
        }
        System.setProperty("log4j.configurationFile", conf.toString());
    }

    /**
     * Starts Ghidra with {@code config} (and Ghidra's own logging, unless set before) if it is not running yet; makes our loader, analyzers
     * and exporters known to a single-jar Ghidra. Whatever Ghidra prints while starting goes to
     * stderr: stdout is for our summaries.
     */
    public static synchronized void start(ApplicationConfiguration config) throws Exception {
        if (!Application.isInitialized()) {
            PrintStream out = System.out, err = System.err;
            // log4j 2.17's start-up line on a JDK without sun.reflect.Reflection (every JDK
            // since 9) says nothing a user can act on: the one line dropped, all else kept
            PrintStream filtered = new PrintStream(new java.io.FilterOutputStream(err) {
                private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

                @Override
                public void write(int b) {
                    line.write(b);
                    if (b == '\n') flushLine();
                }

                @Override
                public void flush() {
                    err.flush();
                }

                private void flushLine() {
                    String text = line.toString();
                    line.reset();
                    if (!text.startsWith("WARNING: sun.reflect.Reflection.getCallerClass is not supported")) err.print(text);
                }
            }, true);
            System.setOut(filtered);
            System.setErr(filtered);
            try {
                Application.initializeApplication(layout(), config);
            } finally {
                System.setOut(out);
                System.setErr(err);
            }
        }
        if (isSingleJar()) ExtensionRegistration.register();
    }
}
