package kernelloader.ghidra;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import ghidra.util.classfinder.ClassSearcher;

/**
 * Makes our Loader (and later Analyzer and Exporters) discoverable when Ghidra runs from its
 * single jar (io.joern:ghidra, the embedded default): there ClassSearcher only knows the classes
 * listed inside that jar, so LoaderService and AutoImporter would never see ours. In a real
 * installation nothing is needed: the extension's jar is scanned as usual.
 */
public final class ExtensionRegistration {
    private static final List<Class<?>> OURS = List.of(LinuxKernelLoader.class, KallsymsAnalyzer.class,
            KallsymsExporter.class, KernelElfExporter.class, ModuleSymversExporter.class);

    private ExtensionRegistration() {}

    /**
     * For Ghidra's own start-up (the GUI's GhidraRun), where no call of ours comes between its
     * class search and the tools that use it: fills ClassSearcher before Ghidra starts with the
     * single jar's list of extension classes (what its search would read) and ours, and marks
     * the search done. Classes are loaded, not initialised: Ghidra instantiates them later, as
     * usual. For the single jar only; an installation finds us by itself.
     */
    @SuppressWarnings("unchecked")
    public static synchronized void registerBeforeStart() throws IOException {
        List<Class<?>> points = new ArrayList<>();
        try (InputStream in = ClassSearcher.class.getResourceAsStream("/_Root/Ghidra/EXTENSION_POINT_CLASSES")) {
            if (in == null) throw new IOException("the single Ghidra jar has no _Root/Ghidra/EXTENSION_POINT_CLASSES");
            ClassLoader loader = ClassSearcher.class.getClassLoader();
            for (String name : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\\R")) {
                if (name.isBlank()) continue;
                try {
                    points.add(Class.forName(name.strip(), false, loader));
                } catch (ClassNotFoundException | LinkageError e) {
                    // as Ghidra's own reading does: a listed class that is not there is left out
                }
            }
        }
        for (Class<?> c : OURS) if (!points.contains(c)) points.add(c);
        try {
            Field f = ClassSearcher.class.getDeclaredField("extensionPoints");
            f.setAccessible(true);
            f.set(null, points);
            Field searched = ClassSearcher.class.getDeclaredField("hasSearched");
            searched.setAccessible(true);
            searched.setBoolean(null, true);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot register LinuxKernelLoader with this Ghidra's ClassSearcher: " + e, e);
        }
    }

    /** Adds our classes to ClassSearcher's list if they are not there; call after Ghidra starts. */
    @SuppressWarnings("unchecked")
    public static synchronized void register() {
        try {
            Field f = ClassSearcher.class.getDeclaredField("extensionPoints");
            f.setAccessible(true);
            List<Class<?>> points = (List<Class<?>>) f.get(null);
            List<Class<?>> updated = points == null ? new ArrayList<>() : new ArrayList<>(points);
            boolean changed = false;
            for (Class<?> c : OURS) {
                if (!updated.contains(c)) {
                    updated.add(c);
                    changed = true;
                }
            }
            if (changed) f.set(null, updated);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot register LinuxKernelLoader with this Ghidra's ClassSearcher: " + e, e);
        }
    }
}
