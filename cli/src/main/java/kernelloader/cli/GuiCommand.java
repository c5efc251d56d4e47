package kernelloader.cli;

import java.awt.GraphicsEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import kernelloader.image.KernelFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code kallsyms gui [PROJECT]}: Ghidra's own front end, with LinuxKernelLoader in it, no installation needed. */
@Command(name = "gui", mixinStandardHelpOptions = true,
        description = "Start Ghidra's front end (the embedded Ghidra, or the installation GHIDRA_INSTALL_DIR names) with"
                + " LinuxKernelLoader's loader, analyzer, exporters and scripts (Script Manager category \"Linux Kernel\")."
                + " Ends when Ghidra is closed.")
final class GuiCommand implements Callable<Integer> {
    @Parameters(paramLabel = "PROJECT", arity = "0..1",
            description = "project directory, as import --project takes it (created if absent), or a project's .gpr file;"
                    + " default: the project Ghidra had open last")
    Path project;

    @Override
    public Integer call() throws Exception {
        if (GraphicsEnvironment.isHeadless()) {
            throw new KernelFormatException("gui needs a display: none is set (DISPLAY), or this Java has no desktop support"
                    + " (Debian: openjdk-17-jre beside openjdk-17-jdk-headless)");
        }
        FrontEnd frontEnd = FrontEnd.find();
        if (project == null) {
            frontEnd.open(null, null);
        } else {
            Path p = project.toAbsolutePath().normalize();
            String file = p.getFileName().toString();
            if (file.endsWith(".gpr")) {
                // a project as Ghidra keeps it: FOLDER/NAME.gpr beside FOLDER/NAME.rep
                if (!Files.isRegularFile(p)) throw new KernelFormatException(project + ": no such project file");
                frontEnd.open(p.getParent(), file.substring(0, file.length() - 4));
            } else {
                // a project as import --project makes it: DIR/DIR.gpr
                if (Files.exists(p) && !Files.isDirectory(p)) throw new KernelFormatException(project + ": not a directory or a .gpr file");
                frontEnd.open(p, file);
            }
        }
        // Ghidra runs on its own threads and exits the JVM when its window is closed
        new CountDownLatch(1).await();
        return 0;
    }
}
