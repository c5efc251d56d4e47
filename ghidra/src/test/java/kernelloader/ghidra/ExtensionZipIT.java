package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;

import generic.jar.ResourceFile;
import ghidra.framework.Application;

/**
 * The extension zip the build makes, installed by the very Ghidra it was built for, with that
 * Ghidra's own installer: ExtensionUtils.install(ResourceFile) in 10.x,
 * ExtensionInstaller.install(File) from 11.0 (called by name: the class moved). Both refuse an
 * extension whose version is not exactly their own. The embedded single jar has no folder to
 * install into: there the zip is checked by the same ExtensionUtils' archive checks.
 */
class ExtensionZipIT {
    @Test
    void theGhidraBuiltForInstallsTheZip() throws Exception {
        EmbeddedGhidra.start();
        File zip = new File(System.getProperty("extension.zip"));
        assertTrue(zip.isFile(), "the build makes " + zip);
        assertTrue(zip.getName().startsWith("ghidra_" + Application.getApplicationVersion() + "_"), zip.getName());
        try (ZipFile z = new ZipFile(zip)) {
            assertNotNull(z.getEntry("LinuxKernelLoader/lib/LinuxKernelLoader.jar"),
                    "lib/<extension name>.jar, the only jars Ghidra scans for extension classes");
            assertNotNull(z.getEntry("LinuxKernelLoader/Module.manifest"));
            List<String> libs = z.stream().map(e -> e.getName()).filter(n -> n.startsWith("LinuxKernelLoader/lib/")).toList();
            assertTrue(libs.stream().noneMatch(n -> n.contains("commons-compress") || n.contains("/xz-") || n.contains("gson")),
                    "no second copy of a library Ghidra bundles: " + libs);
            assertTrue(libs.stream().anyMatch(n -> n.contains("zstd-jni")), libs.toString());
        }

        File installDir = Application.getApplicationLayout().getExtensionInstallationDirs().get(0).getFile(false);
        if (installDir == null) {
            // the single jar's extension folder lies inside the jar: nothing can be installed
            // there, so its installer's own checks of the archive are all there is to ask
            Class<?> utils = Class.forName("ghidra.framework.plugintool.dialog.ExtensionUtils");
            assertTrue((Boolean) utils.getMethod("isExtension", ResourceFile.class).invoke(null, new ResourceFile(zip)));
            Properties p = (Properties) utils.getMethod("getPropertiesFromArchive", File.class).invoke(null, zip);
            assertEquals("LinuxKernelLoader", p.getProperty("name"));
            assertEquals(Application.getApplicationVersion(), p.getProperty("version"), "must equal Ghidra's version exactly");
            return;
        }
        Path installed = installDir.toPath().resolve("LinuxKernelLoader");
        removeTree(installed);
        assertTrue(install(zip), "Ghidra " + Application.getApplicationVersion() + " installed " + zip);
        Properties p = new Properties();
        try (InputStream in = new FileInputStream(installed.resolve("extension.properties").toFile())) {
            p.load(in);
        }
        assertEquals("LinuxKernelLoader", p.getProperty("name"));
        assertEquals(Application.getApplicationVersion(), p.getProperty("version"), "must equal Ghidra's version exactly");
        assertTrue(Files.isRegularFile(installed.resolve("lib/LinuxKernelLoader.jar")), "installed in " + installed);
        assertTrue(Files.isDirectory(installed.resolve("ghidra_scripts")));
        removeTree(installed);
    }

    /** This Ghidra's own extension installer. */
    private static boolean install(File zip) throws Exception {
        try {
            Class<?> installer = Class.forName("ghidra.framework.project.extensions.ExtensionInstaller");
            return (Boolean) installer.getMethod("install", File.class).invoke(null, zip);
        } catch (ClassNotFoundException tenX) {
            Class<?> utils = Class.forName("ghidra.framework.plugintool.dialog.ExtensionUtils");
            return (Boolean) utils.getMethod("install", ResourceFile.class).invoke(null, new ResourceFile(zip));
        }
    }

    private static void removeTree(Path p) throws Exception {
        if (!Files.exists(p)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
