package kernelloader.ghidra;

import java.io.IOException;

import ghidra.app.util.bin.ByteProvider;
import kernelloader.core.KernelModel;
import kernelloader.core.KernelReader;
import kernelloader.image.KernelFormatException;
import kernelloader.kallsyms.KallsymsFinder;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.LayoutInference;

/**
 * The last kernel read, so that Ghidra's findSupportedLoadSpecs and load on the same file read
 * and decode it once (a 50 MB image is not decompressed twice), with its inferred layout.
 */
final class KernelCache {
    /** A file's bytes, read once. */
    record Bytes(byte[] data, String name) {}

    /** A kernel read from a provider, and its layout without overrides. */
    record Entry(KernelModel model, KernelLayout layout) {}

    private static String key;
    private static Entry entry;

    private KernelCache() {}

    static Bytes bytes(ByteProvider provider) throws IOException, KernelFormatException {
        long length = provider.length();
        if (length > KernelReader.MAX_FILE) throw new KernelFormatException(provider.getName() + ": larger than any kernel (2 GiB)");
        return new Bytes(provider.readBytes(0, length), provider.getName());
    }

    /** The kernel in {@code provider}; {@code bytes} may be given if already read, else null. */
    static Entry read(ByteProvider provider, Bytes bytes) throws IOException, KernelFormatException {
        return read(provider, bytes, 0);
    }

    /** The kernel of the {@code table}-th kallsyms table in {@code provider} (files holding several kernels). */
    static synchronized Entry read(ByteProvider provider, Bytes bytes, int table) throws IOException, KernelFormatException {
        String k = keyOf(provider) + "#table" + table;
        if (k.equals(key) && entry != null) return entry;
        Bytes b = bytes != null ? bytes : bytes(provider);
        KernelModel m = KernelReader.read(b.name(), b.data(), b.data().length, KallsymsFinder.Hints.NONE, table);
        KernelLayout layout = LayoutInference.infer(m.image(), m.kallsyms(), LayoutInference.Overrides.NONE);
        key = k;
        entry = new Entry(m, layout);
        return entry;
    }

    /**
     * Forgets the cached kernel: loading changes its bytes (relocations), so the next import
     * of the same file reads it afresh.
     */
    static synchronized void clear() {
        key = null;
        entry = null;
    }

    private static String keyOf(ByteProvider p) throws IOException {
        String where = p.getFSRL() != null ? p.getFSRL().toString()
                : p.getFile() != null ? p.getFile().getAbsolutePath() : "@" + System.identityHashCode(p);
        long modified = p.getFile() != null ? p.getFile().lastModified() : 0;
        return where + "#" + p.length() + "#" + modified;
    }
}
