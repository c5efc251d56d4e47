package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.List;
import java.util.Properties;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;

import generic.jar.ResourceFile;
import ghidra.framework.Application;
import ghidra.framework.plugintool.dialog.ExtensionUtils;

/** The extension zip the build makes, checked by Ghidra 10.3's own extension installer code. */
class ExtensionZipIT {
    @Test
    void ghidraAcceptsTheZip() throws Exception {
        EmbeddedGhidra.start();
        File zip = new File("target/ghidra_10.3_PUBLIC_LinuxKernelLoader.zip");
        assertTrue(zip.isFile(), "the build makes " + zip);
        assertTrue(ExtensionUtils.isExtension(new ResourceFile(zip)), "Ghidra recognises an extension");
        Properties p = ExtensionUtils.getPropertiesFromArchive(zip);
        assertNotNull(p);
        assertEquals("LinuxKernelLoader", p.getProperty("name"));
        assertEquals(Application.getApplicationVersion(), p.getProperty("version"), "must equal Ghidra's version exactly");
        try (ZipFile z = new ZipFile(zip)) {
            var jar = z.getEntry("LinuxKernelLoader/lib/LinuxKernelLoader.jar");
            assertNotNull(jar, "lib/<extension name>.jar, the only jars Ghidra scans for extension classes");
            assertNotNull(z.getEntry("LinuxKernelLoader/Module.manifest"));
            List<String> libs = z.stream().map(e -> e.getName()).filter(n -> n.startsWith("LinuxKernelLoader/lib/")).toList();
            assertTrue(libs.stream().noneMatch(n -> n.contains("commons-compress") || n.contains("/xz-") || n.contains("gson")),
                    "no second copy of a library Ghidra bundles: " + libs);
            assertTrue(libs.stream().anyMatch(n -> n.contains("zstd-jni")), libs.toString());
        }
    }
}
