package kernelloader.ghidra;

import java.io.IOException;

import ghidra.app.util.bin.ByteProvider;
import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/**
 * The last kernel read from a provider, so that Ghidra's findSupportedLoadSpecs and load on the
 * same file read and decode it once (a 50 MB image is not decompressed twice). The model is
 * never written to (relocations go to program memory), so sharing it is safe; it is dropped
 * after the load to give its memory back.
 */
final class KernelCache {
    private static String key;
    private static Kernel kernel;

    private KernelCache() {}

    /** The kernel in {@code provider} read with {@code options}: the cached one when the file and the reading options match. */
    static synchronized Kernel read(ByteProvider provider, KernelOptions options) throws IOException, KernelFormatException {
        String k = keyOf(provider);
        if (k.equals(key) && kernel != null && kernel.options().readsLike(options)) return kernel;
        long length = provider.length();
        if (length > Kernel.MAX_FILE) throw new KernelFormatException(provider.getName() + ": larger than any kernel (2 GiB)");
        byte[] data = provider.readBytes(0, length);
        kernel = Kernel.read(provider.getName(), data, data.length, options);
        key = k;
        return kernel;
    }

    /** Forgets the cached kernel (after a load: the program holds what it needs). */
    static synchronized void clear() {
        key = null;
        kernel = null;
    }

    private static String keyOf(ByteProvider p) throws IOException {
        String where = p.getFSRL() != null ? p.getFSRL().toString()
                : p.getFile() != null ? p.getFile().getAbsolutePath() : "@" + System.identityHashCode(p);
        long modified = p.getFile() != null ? p.getFile().lastModified() : 0;
        return where + "#" + p.length() + "#" + modified;
    }
}
