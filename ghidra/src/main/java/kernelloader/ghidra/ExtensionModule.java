package kernelloader.ghidra;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

import generic.jar.ResourceFile;
import ghidra.GhidraApplicationLayout;
import ghidra.GhidraJarApplicationLayout;
import ghidra.framework.GModule;

/**
 * This source tree's extension folder ({@code ghidra/}: Module.manifest, ghidra_scripts, data)
 * made one of the running Ghidra's modules, as an installed extension would be, when our classes
 * run from that tree (./kallsyms, the tests) rather than from an installed extension. Ghidra then
 * finds our scripts as its own: the Script Manager lists them (category "Linux Kernel") and
 * analyzeHeadless runs them by name, with no -scriptPath.
 */
final class ExtensionModule {
    /** The module's name: that of the extension, as its installed folder is named (Extensions/LinuxKernelLoader). */
    static final String NAME = "LinuxKernelLoader";

    private ExtensionModule() {}

    /** The extension folder of this source tree, or null when our classes come from elsewhere (an installed extension's jar). */
    static Path sourceFolder() {
        try {
            Path classes = Path.of(ExtensionModule.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // ghidra/target/classes -> ghidra
            Path folder = classes.getParent() == null ? null : classes.getParent().getParent();
            if (folder != null && Files.isDirectory(classes) && Files.isRegularFile(folder.resolve("Module.manifest"))
                    && Files.isDirectory(folder.resolve("ghidra_scripts"))) return folder;
        } catch (URISyntaxException | RuntimeException e) {
            // no code source to go by: run as Ghidra finds us
        }
        return null;
    }

    /** {@code modules} with the extension folder added, when there is one and Ghidra does not know it yet. */
    static Map<String, GModule> with(Map<String, GModule> modules, Collection<ResourceFile> appRoots) {
        Path folder = sourceFolder();
        // an installation that has the extension installed knows its scripts already
        if (folder == null || modules.containsKey(NAME)) return modules;
        Map<String, GModule> all = new LinkedHashMap<>(modules);
        all.put(NAME, new GModule(appRoots, new ResourceFile(folder.toFile())));
        return all;
    }

    /** The single jar's layout, with the extension folder as a module. */
    static final class Embedded extends GhidraJarApplicationLayout {
        Embedded() throws IOException {
            super();
        }

        @Override
        protected Map<String, GModule> findGhidraModules() throws IOException {
            return with(super.findGhidraModules(), getApplicationRootDirs());
        }
    }

    /** An installation's layout (GHIDRA_INSTALL_DIR's jars on the class path), with the extension folder as a module. */
    static final class Installation extends GhidraApplicationLayout {
        Installation() throws IOException {
            super();
        }

        @Override
        protected Map<String, GModule> findGhidraModules() throws IOException {
            return with(super.findGhidraModules(), getApplicationRootDirs());
        }
    }
}
