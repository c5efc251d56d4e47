package kernelloader.ghidra;

import java.io.File;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;

import ghidra.app.util.bin.ByteProvider;
import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/**
 * The last kernel read from a provider, so that Ghidra's findSupportedLoadSpecs and load on the
 * same file read and decode it once (a 50 MB image is not decompressed twice). The model is
 * never written to (relocations go to program memory), so sharing it is safe. Only kernels are
 * kept (a file that is none leaves nothing behind), and the load drops it to give its memory back.
 *
 * <p>Ghidra's recognition (findSupportedLoadSpecs) is given no options; an importer that has
 * some for a file ({@code ./kallsyms import --table 1 dump.bin}) says so first with
 * {@link #readWith}, so that the language offered is that of the kernel those options read.
 */
final class KernelCache {
    private static String key;
    private static WeakReference<ByteProvider> keyProvider = new WeakReference<>(null);
    private static Kernel kernel;
    private static final Map<String, KernelOptions> REQUESTED = new HashMap<>();

    private KernelCache() {}

    /** Options to read {@code file} with when Ghidra asks without any (until {@link #forget}). */
    static synchronized void readWith(File file, KernelOptions options) {
        REQUESTED.put(file.getAbsolutePath(), options);
    }

    static synchronized void forget(File file) {
        REQUESTED.remove(file.getAbsolutePath());
    }

    /** The options an importer asked for this provider's file, else the defaults. */
    static synchronized KernelOptions requested(ByteProvider provider) {
        File f = provider.getFile();
        KernelOptions o = f == null ? null : REQUESTED.get(f.getAbsolutePath());
        return o != null ? o : KernelOptions.DEFAULT;
    }

    /** The kernel in {@code provider} read with {@code options}: the cached one when the file and the reading options match. */
    static synchronized Kernel read(ByteProvider provider, KernelOptions options) throws IOException, KernelFormatException {
        String k = keyOf(provider);
        boolean same = k != null ? k.equals(key) : keyProvider.get() == provider;
        if (same && kernel != null && kernel.options().readsLike(options)) return kernel;
        long length = provider.length();
        long from = options.fileOffset();
        if (from > 0 && from >= length) {
            throw new KernelFormatException(provider.getName() + ": file offset 0x" + Long.toHexString(from)
                    + " is outside the file (" + length + " bytes)");
        }
        if (length - from > Kernel.MAX_FILE) {
            throw new KernelFormatException(provider.getName() + ": " + (length - from) + " bytes"
                    + (from > 0 ? " from the file offset on" : "") + ", more than Ghidra's import reads at once (2 GiB): give the"
                    + " file offset where the kernel lies (./kallsyms info FILE finds it, as its window layer) or cut it out with dd");
        }
        // only the bytes from the file offset on: the rest would be copied away at once
        byte[] data = provider.readBytes(from, length - from);
        Kernel read = Kernel.readFromOffset(provider.getName(), data, data.length, options);
        if (read.kallsyms().present()) {
            kernel = read;
            key = k;
            keyProvider = new WeakReference<>(provider);
        } else {
            clear();
        }
        return read;
    }

    /** Forgets the cached kernel (after a load: the program holds what it needs). */
    static synchronized void clear() {
        key = null;
        keyProvider = new WeakReference<>(null);
        kernel = null;
    }

    /** Where the provider's bytes come from and their version, or null for a provider that names none. */
    private static String keyOf(ByteProvider p) throws IOException {
        if (p.getFSRL() == null && p.getFile() == null) return null;
        String where = p.getFSRL() != null ? p.getFSRL().toString() : p.getFile().getAbsolutePath();
        long modified = p.getFile() != null ? p.getFile().lastModified() : 0;
        return where + "#" + p.length() + "#" + modified;
    }
}
