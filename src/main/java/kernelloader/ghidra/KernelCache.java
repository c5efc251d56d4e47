package kernelloader.ghidra;

import java.io.IOException;

import ghidra.app.util.bin.ByteProvider;
import kernelloader.core.KernelModel;
import kernelloader.core.KernelReader;
import kernelloader.image.KernelFormatException;
import kernelloader.kallsyms.KallsymsFinder;

/**
 * The last kernel read, so that Ghidra's findSupportedLoadSpecs and load on the same file decode
 * it once: a 50 MB image is not decompressed twice.
 */
final class KernelCache {
    private static String key;
    private static KernelModel model;

    private KernelCache() {}

    static synchronized KernelModel read(ByteProvider provider) throws IOException, KernelFormatException {
        String k = keyOf(provider);
        if (k.equals(key) && model != null) return model;
        long length = provider.length();
        if (length > KernelReader.MAX_FILE) throw new KernelFormatException(provider.getName() + ": larger than any kernel (2 GiB)");
        byte[] data = provider.readBytes(0, length);
        KernelModel m = KernelReader.read(provider.getName(), data, data.length, KallsymsFinder.Hints.NONE);
        key = k;
        model = m;
        return m;
    }

    private static String keyOf(ByteProvider p) throws IOException {
        String where = p.getFSRL() != null ? p.getFSRL().toString()
                : p.getFile() != null ? p.getFile().getAbsolutePath() : "@" + System.identityHashCode(p);
        long modified = p.getFile() != null ? p.getFile().lastModified() : 0;
        return where + "#" + p.length() + "#" + modified;
    }
}
