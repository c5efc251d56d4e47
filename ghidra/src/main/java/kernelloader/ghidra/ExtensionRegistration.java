package kernelloader.ghidra;

import java.lang.reflect.Field;
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
    private static final List<Class<?>> OURS = List.of(LinuxKernelLoader.class, LinuxModuleLoader.class, KallsymsAnalyzer.class,
            KallsymsExporter.class, KernelElfExporter.class, ModuleSymversExporter.class);

    private ExtensionRegistration() {}

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
