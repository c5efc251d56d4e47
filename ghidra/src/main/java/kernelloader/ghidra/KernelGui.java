package kernelloader.ghidra;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import javax.swing.ToolTipManager;

import ghidra.GhidraThreadGroup;
import ghidra.base.help.GhidraHelpService;
import ghidra.framework.GhidraApplicationConfiguration;
import ghidra.framework.main.FrontEndTool;
import ghidra.framework.model.Project;
import ghidra.framework.model.ProjectLocator;
import ghidra.framework.model.ProjectManager;
import ghidra.framework.preferences.Preferences;
import ghidra.framework.project.DefaultProjectManager;
import ghidra.program.database.ProgramDB;
import ghidra.util.Msg;
import ghidra.util.Swing;
import kernelloader.cli.FrontEnd;

/**
 * {@code ./kallsyms gui}: Ghidra's front end as Ghidra's own GhidraRun starts it (application
 * start with the GUI configuration, help, extensions, the project manager, the front-end tool),
 * with two differences: our classes are registered with a single-jar Ghidra between its start
 * and its first tool, and the project asked for is created when it is not there yet (GhidraRun
 * only opens existing ones). Our scripts are found through {@link ExtensionModule}.
 */
public final class KernelGui implements FrontEnd {
    /** FrontEndTool's preference for its first-start "What's New" page. */
    private static final String SHOW_WHATS_NEW = "GhidraShowWhatsNew";

    @Override
    public void open(Path location, String name) throws Exception {
        boolean exists = false;
        if (location != null) {
            Path gpr = location.resolve(name + ".gpr"), rep = location.resolve(name + ".rep");
            exists = Files.exists(gpr);
            if (!exists && Files.exists(rep)) {
                throw new IOException(location + " holds " + rep.getFileName() + " but no " + gpr.getFileName()
                        + ": a damaged or half-copied Ghidra project; move it away or give another project");
            }
        }
        boolean create = location != null && !exists;
        CountDownLatch up = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable start = () -> {
            try {
                GhidraStart.start(new GhidraApplicationConfiguration());
                // a locator is a ghidra: URL, whose handler Ghidra's start installs
                ProjectLocator asked = location == null ? null : new ProjectLocator(location.toString(), name);
                ToolTipManager.sharedInstance().setDismissDelay(ToolTipManager.sharedInstance().getDismissDelay() * 2);
                GhidraHelpService.install();
                versionSpecificSteps();
                // the single jar has no docs/WhatsNew.html: Ghidra's first start would open an empty help window for it
                if (GhidraStart.isSingleJar() && Preferences.getProperty(SHOW_WHATS_NEW) == null) Preferences.setProperty(SHOW_WHATS_NEW, "false");
                if (create) Files.createDirectories(location);
                Swing.runNow(() -> {
                    FrontEndTool tool = new FrontEndTool(new ProjectManagerOfTheGui());
                    tool.setVisible(true);
                    try {
                        ProjectManager pm = tool.getProjectManager();
                        ProjectLocator open = asked != null ? asked : tool.shouldRestorePreviousProject() ? pm.getLastOpenedProject() : null;
                        Project p = null;
                        if (create) p = pm.createProject(asked, null, true);
                        else if (open != null) p = pm.openProject(open, true, false);
                        if (p != null) tool.setActiveProject(p);
                    } catch (Exception e) {
                        // the project asked for on the command line: said there, in one line; the
                        // one Ghidra reopens by itself: said as GhidraRun says it, in a dialog
                        if (asked != null) failure.set(e);
                        else Msg.showInfo(KernelGui.class, null, "Project Open Failed", "Failed to reopen last project: " + e.getMessage());
                        tool.setActiveProject(null);
                    }
                });
            } catch (Throwable t) {
                failure.set(t);
            } finally {
                up.countDown();
            }
        };
        // Ghidra's own thread group: it reports uncaught exceptions of Ghidra's threads in a dialog
        new Thread(new GhidraThreadGroup(), start, "Ghidra").start();
        up.await();
        Throwable t = failure.get();
        if (t instanceof Exception e) throw new IOException(location == null ? "Ghidra: " + e.getMessage()
                : location.resolve(name + ".gpr") + ": " + e.getMessage(), e);
        if (t != null) throw new IllegalStateException("Ghidra's front end did not start: " + t, t);
    }

    /**
     * What GhidraRun does between help and the first tool that moved between Ghidra versions,
     * called by name: an installation's extensions (10.x: ExtensionUtils.cleanupUninstalledExtensions;
     * 11+: initializeExtensions, in another package), and 10.x's default content class for old
     * project files. The single jar has no extensions folder to tend.
     */
    private static void versionSpecificSteps() throws ReflectiveOperationException {
        if (!GhidraStart.isSingleJar()) {
            call("ghidra.util.extensions.ExtensionUtils", "initializeExtensions");
            call("ghidra.framework.plugintool.dialog.ExtensionUtils", "cleanupUninstalledExtensions");
        }
        try {
            Class.forName("ghidra.framework.data.DomainObjectAdapter").getMethod("setDefaultContentClass", Class.class)
                    .invoke(null, ProgramDB.class);
        } catch (NoSuchMethodException e) {
            // Ghidra 11+: gone with the content it was for
        }
    }

    private static void call(String className, String method) throws ReflectiveOperationException {
        Method m;
        try {
            m = Class.forName(className).getMethod(method);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            return;    // the other version's name
        }
        m.invoke(null);
    }

    /** Ghidra's project manager (GhidraRun's own is private to it). */
    private static final class ProjectManagerOfTheGui extends DefaultProjectManager {
    }
}
