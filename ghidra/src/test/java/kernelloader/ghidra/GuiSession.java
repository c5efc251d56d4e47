package kernelloader.ghidra;

import java.awt.Component;
import java.awt.Container;
import java.awt.GraphicsEnvironment;
import java.awt.Rectangle;
import java.awt.Robot;
import java.awt.Window;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import javax.imageio.ImageIO;
import javax.swing.AbstractButton;
import javax.swing.text.JTextComponent;

import com.google.gson.Gson;

import docking.DialogComponentProvider;
import docking.DockingDialog;
import docking.action.DockingActionIf;
import docking.widgets.filechooser.GhidraFileChooser;
import generic.jar.ResourceFile;
import ghidra.app.script.GhidraScriptInfoManager;
import ghidra.app.script.GhidraScriptUtil;
import ghidra.app.script.ScriptInfo;
import ghidra.framework.main.AppInfo;
import ghidra.framework.main.FrontEndTool;
import ghidra.framework.model.DomainFile;
import ghidra.program.model.listing.Program;
import ghidra.program.model.symbol.Symbol;
import ghidra.program.model.symbol.SymbolIterator;
import ghidra.util.Swing;
import ghidra.util.task.TaskMonitor;
import kernelloader.cli.KallsymsCli;

/**
 * A user's first minutes with {@code ./kallsyms gui}, in a JVM of its own on an X display (the
 * test starts Xvfb): the command line's gui command starts the front end, then this clicks
 * through it as a person would (the user agreement, File → Import File..., the file chooser, the
 * import dialog and its options, the results) and keeps screenshots. It prints one JSON object
 * of what it saw: the test checks it against the core's reading of the same kernel.
 *
 * <p>Arguments: PROJECT_DIR KERNEL SCREENSHOT_DIR.
 */
public final class GuiSession {
    private static final long TIMEOUT_MS = Long.getLong("gui.timeoutMs", 600_000);

    public static void main(String[] args) throws Exception {
        Path project = Path.of(args[0]), kernel = Path.of(args[1]), shots = Path.of(args[2]);
        Files.createDirectories(shots);
        Map<String, Object> seen = new LinkedHashMap<>();
        try {
            run(project, kernel, shots, seen);
        } catch (Throwable t) {
            seen.put("error", t.toString());
            ByteArrayOutputStream trace = new ByteArrayOutputStream();
            t.printStackTrace(new PrintStream(trace, true));
            System.err.print(trace);
            try {
                shot(shots, "failure");
            } catch (Exception ignored) {
                // no screen left to show
            }
        }
        System.out.println("GUI-SESSION " + new Gson().toJson(seen));
        System.out.flush();
        // Ghidra's own exit asks questions (save the tool?): the session ends the JVM itself
        Runtime.getRuntime().halt(seen.containsKey("error") ? 1 : 0);
    }

    private static void run(Path project, Path kernel, Path shots, Map<String, Object> seen) throws Exception {
        seen.put("headless", GraphicsEnvironment.isHeadless());
        // exactly what `./kallsyms gui PROJECT` runs; it does not return while Ghidra runs
        Thread cli = new Thread(() -> {
            int rc = KallsymsCli.run(new String[] {"gui", project.toString()}, System.out, System.err);
            System.err.println("GUI-SESSION the gui command returned " + rc);
            Runtime.getRuntime().halt(3);
        }, "kallsyms gui");
        cli.setDaemon(true);
        cli.start();

        // Ghidra's first start on a new user: its user agreement, accepted as a person would
        DialogComponentProvider agreement = waitFor("the user agreement", () -> dialog(d -> hasButton(d, "I Agree")));
        shot(shots, "1-user-agreement");
        click(agreement, "I Agree");

        FrontEndTool tool = waitFor("the front end with the project open", () -> {
            FrontEndTool t;
            try {
                t = AppInfo.getFrontEndTool();
            } catch (ghidra.util.exception.AssertException notYet) {
                return null;
            }
            return t != null && t.isVisible() && t.getProject() != null ? t : null;
        });
        seen.put("project", tool.getProject().getName());
        seen.put("windows", onSwing(() -> {
            List<String> titles = new ArrayList<>();
            for (Window w : Window.getWindows()) if (w.isShowing()) titles.add(title(w));
            return titles;
        }));
        shot(shots, "2-front-end");
        // Ghidra's tip of the day, closed as a person would
        DialogComponentProvider tip = dialog(d -> d.getTitle().equals("Tip of the Day"));
        if (tip != null) {
            click(tip, "Close");
            waitFor("the tip closed", () -> dialog(d -> d == tip) == null ? true : null);
        }

        // our scripts, as Ghidra's Script Manager finds them: a system script folder, category Linux Kernel
        List<String> scripts = new ArrayList<>();
        GhidraScriptInfoManager infos = new GhidraScriptInfoManager();
        for (ResourceFile dir : GhidraScriptUtil.getSystemScriptDirectories()) {
            ResourceFile[] files = dir.listFiles(f -> f.getName().endsWith(".java"));
            if (files == null) continue;
            for (ResourceFile f : files) {
                ScriptInfo info = infos.getScriptInfo(f);
                if (String.join("/", info.getCategory()).equals("Linux Kernel")) scripts.add(info.getName());
            }
        }
        scripts.sort(null);
        seen.put("linuxKernelScripts", scripts);

        // File -> Import File...: the chooser, the file, "Select File To Import"
        DockingActionIf importAction = onSwing(() -> tool.getAllActions().stream()
                .filter(a -> a.getName().equals("Import File") && a.getMenuBarData() != null).findFirst().orElseThrow());
        docking.ActionContext context = defaultContext(tool);
        Swing.runLater(() -> importAction.actionPerformed(context));
        GhidraFileChooser chooser = waitFor("the file chooser", () -> (GhidraFileChooser) dialog(d -> d instanceof GhidraFileChooser));
        onSwing(() -> {
            chooser.setSelectedFile(kernel.toFile());
            return null;
        });
        waitFor("the chosen file in the chooser", () -> onSwing(() -> {
            List<String> shown = texts(chooser.getComponent());
            return shown.contains(kernel.getParent().toString()) && shown.contains(kernel.getFileName().toString()) ? true : null;
        }));
        shot(shots, "3-file-chooser");
        click(chooser, "Select File To Import");

        // the import dialog: our loader's format picked by itself, its options with the base read
        DialogComponentProvider importer = waitFor("the import dialog", () -> dialog(d -> d.getTitle().startsWith("Import ")
                && hasButton(d, "Options...")));
        waitFor("the format recognised", () -> onSwing(() -> texts(importer.getComponent()).stream()
                .anyMatch(t -> t.contains(KernelLoad.NAME)) ? true : null));
        seen.put("importDialogTexts", onSwing(() -> texts(importer.getComponent())));
        shot(shots, "4-import-dialog");
        click(importer, "Options...");
        DialogComponentProvider options = waitFor("the loader's options", () -> dialog(d -> d != importer && texts(d.getComponent()).stream()
                .anyMatch(t -> t.startsWith(LoaderOptions.INFERRED + " 0x"))));
        seen.put("baseOption", onSwing(() -> texts(options.getComponent()).stream()
                .filter(t -> t.startsWith(LoaderOptions.INFERRED + " 0x")).findFirst().orElse(null)));
        shot(shots, "5-import-options");
        click(options, "OK");
        waitFor("the options closed", () -> dialog(d -> d == options) == null ? true : null);
        click(importer, "OK");

        // the import runs as a task; Ghidra shows its summary when the program is saved
        DialogComponentProvider summary = waitFor("the import results summary",
                () -> dialog(d -> d.getTitle().equals("Import Results Summary")));
        seen.put("summary", onSwing(() -> String.join("\n", texts(summary.getComponent()))));
        shot(shots, "6-import-results");
        click(summary, "OK");

        // what the project now holds
        DomainFile df = tool.getProject().getProjectData().getRootFolder().getFile(kernel.getFileName().toString());
        if (df == null) throw new IllegalStateException("no program " + kernel.getFileName() + " in the project after the import");
        Object consumer = new Object();
        Program p = (Program) df.getReadOnlyDomainObject(consumer, DomainFile.DEFAULT_VERSION, TaskMonitor.DUMMY);
        try {
            seen.put("program", df.getPathname());
            seen.put("language", p.getLanguageID().getIdAsString());
            seen.put("functions", p.getFunctionManager().getFunctionCount());
            // every label, as "address name" lines, for the test to hold against the kernel's kallsyms
            StringBuilder labels = new StringBuilder();
            SymbolIterator it = p.getSymbolTable().getAllSymbols(false);
            for (Symbol s : it) labels.append(Long.toHexString(s.getAddress().getOffset())).append(' ').append(s.getName()).append('\n');
            Files.writeString(shots.resolve("labels.txt"), labels);
            List<Symbol> sk = p.getSymbolTable().getGlobalSymbols("start_kernel");
            seen.put("start_kernel", sk.isEmpty() ? null : sk.get(0).getAddress().getOffset());
        } finally {
            p.release(consumer);
        }
    }

    /** The tool's context with nothing selected (10.x: getDefaultToolContext(); 11+: a DefaultActionContext). */
    private static docking.ActionContext defaultContext(FrontEndTool tool) throws ReflectiveOperationException {
        try {
            return (docking.ActionContext) tool.getClass().getMethod("getDefaultToolContext").invoke(tool);
        } catch (NoSuchMethodException e) {
            return (docking.ActionContext) Class.forName("docking.DefaultActionContext").getConstructor().newInstance();
        }
    }

    // ---- as a person would: windows, buttons, text ----

    /** The showing dialog whose provider matches, or null. */
    private static DialogComponentProvider dialog(Predicate<DialogComponentProvider> which) throws Exception {
        return onSwing(() -> {
            for (Window w : Window.getWindows()) {
                if (w instanceof DockingDialog d && d.isShowing() && d.getDialogComponent() != null && which.test(d.getDialogComponent())) {
                    return d.getDialogComponent();
                }
            }
            return null;
        });
    }

    private static boolean hasButton(DialogComponentProvider d, String text) {
        return button(d.getComponent().getRootPane() != null ? d.getComponent().getRootPane() : d.getComponent(), text) != null;
    }

    private static void click(DialogComponentProvider d, String text) throws Exception {
        onSwing(() -> {
            Container root = d.getComponent().getRootPane() != null ? d.getComponent().getRootPane() : d.getComponent();
            AbstractButton b = button(root, text);
            if (b == null) throw new IllegalStateException("no button \"" + text + "\" in " + d.getTitle());
            if (!b.isEnabled()) throw new IllegalStateException("button \"" + text + "\" is disabled in " + d.getTitle());
            Swing.runLater(b::doClick);
            return null;
        });
    }

    private static AbstractButton button(Container c, String text) {
        for (Component child : c.getComponents()) {
            if (child instanceof AbstractButton b && text.equals(b.getText()) && b.isShowing()) return b;
            if (child instanceof Container cc) {
                AbstractButton b = button(cc, text);
                if (b != null) return b;
            }
        }
        return null;
    }

    /** Every text shown in {@code c}: labels, fields, combo boxes' selections, buttons. */
    private static List<String> texts(Component c) {
        List<String> out = new ArrayList<>();
        collect(c, out);
        return out;
    }

    private static void collect(Component c, List<String> out) {
        if (!c.isShowing()) return;
        if (c instanceof javax.swing.JLabel l && l.getText() != null && !l.getText().isBlank()) out.add(l.getText());
        if (c instanceof JTextComponent t && t.getText() != null && !t.getText().isBlank()) out.add(t.getText());
        if (c instanceof javax.swing.JComboBox<?> b && b.getSelectedItem() != null) out.add(shown(b));
        if (c instanceof Container cc) for (Component child : cc.getComponents()) collect(child, out);
    }

    /** A combo box's selection as it is drawn (its renderer's text), not the item's toString. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static String shown(javax.swing.JComboBox b) {
        Component r = b.getRenderer().getListCellRendererComponent(new javax.swing.JList(), b.getSelectedItem(), -1, false, false);
        return r instanceof javax.swing.JLabel l && l.getText() != null ? l.getText() : String.valueOf(b.getSelectedItem());
    }

    private static String title(Window w) {
        if (w instanceof java.awt.Frame f) return f.getTitle();
        if (w instanceof java.awt.Dialog d) return d.getTitle();
        return w.getClass().getSimpleName();
    }

    /** The whole screen as a PNG in {@code dir}. */
    private static void shot(Path dir, String name) throws Exception {
        Thread.sleep(700);    // let the window finish painting
        Rectangle screen = GraphicsEnvironment.getLocalGraphicsEnvironment().getDefaultScreenDevice().getDefaultConfiguration().getBounds();
        File f = dir.resolve(name + ".png").toFile();
        ImageIO.write(new Robot().createScreenCapture(screen), "png", f);
    }

    private static <T> T onSwing(Callable<T> c) throws Exception {
        AtomicReference<T> r = new AtomicReference<>();
        AtomicReference<Exception> e = new AtomicReference<>();
        Swing.runNow(() -> {
            try {
                r.set(c.call());
            } catch (Exception x) {
                e.set(x);
            }
        });
        if (e.get() != null) throw e.get();
        return r.get();
    }

    private static <T> T waitFor(String what, Callable<T> probe) throws Exception {
        long end = System.currentTimeMillis() + TIMEOUT_MS;
        while (System.currentTimeMillis() < end) {
            T v = probe.call();
            if (v != null) return v;
            Thread.sleep(250);
        }
        throw new IllegalStateException("timed out waiting for " + what);
    }
}
