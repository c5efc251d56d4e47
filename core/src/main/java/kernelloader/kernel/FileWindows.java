package kernelloader.kernel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import kernelloader.image.InputFile;
import kernelloader.image.KernelFormatException;
import kernelloader.image.Layer;

/**
 * A file larger than one array holds (2 GiB: a whole eMMC or NAND dump) searched in windows of
 * one size, at most {@link #MAX_WINDOW} bytes, that overlap by {@link #OVERLAP} and end at the
 * file's end: any kernel, with its containers and compressed payload, shorter than the overlap
 * lies whole in one window. The first window with
 * a kallsyms table gives the kernel, with the window as its outermost layer (its offsets are
 * the file's); memory stays one window and what is decoded from it.
 */
final class FileWindows {
    private FileWindows() {}

    /** The largest window: one array, with room beside it for what is decoded from it. */
    static final long MAX_WINDOW = 5L << 28;
    /** Longer than any kernel image with its payload: the largest decoded ones are ~100 MB. */
    static final long OVERLAP = 256L << 20;

    static Kernel search(Path file, long size, KernelOptions options) throws IOException, KernelFormatException {
        if (options.table() > 0) {
            throw new KernelFormatException(file + ": " + size + " bytes: a file this large is searched in windows, where"
                    + " tables cannot be counted; give --file-offset near the table you want instead of --table");
        }
        List<String> windows = new ArrayList<>();
        Kernel last = null;
        // as few windows as MAX_WINDOW allows, all of one size: one array serves them all, and a
        // window without a kernel leaves nothing the next needs (only the last one's reason is kept)
        long span = size - options.fileOffset();
        long n = (span - OVERLAP + (MAX_WINDOW - OVERLAP) - 1) / (MAX_WINDOW - OVERLAP);
        long step = (span - OVERLAP + n - 1) / n;
        int length = (int) Math.min(span, step + OVERLAP);
        byte[] data = new byte[length];
        for (long i = 0; i < n; i++) {
            long start = Math.min(options.fileOffset() + i * step, size - length);
            long end = start + length;
            long t0 = System.nanoTime();
            // what was found in the last window's bytes is forgotten before they are overwritten
            kernelloader.evidence.StringPointers.forget(data);
            InputFile.read(file, start, end, data);
            Diagnostics.Recorder d = new Diagnostics.Recorder();
            d.time("read", System.nanoTime() - t0);
            Kernel k = KernelSearch.inFile(file.toString(), data, length, options, d);
            Layer window = new Layer("window", start, length, "bytes 0x" + Long.toHexString(start) + "-0x" + Long.toHexString(end)
                    + " of a " + size + "-byte file, searched in windows of " + (length >> 20) + " MiB");
            if (k.kallsyms().present()) {
                Kernel found = k.under(List.of(window), size);
                // a running kernel's dump offsets are the file's, not the window's
                return found.running().present() ? found.running(found.running().orNull().inFileAt(start)) : found;
            }
            windows.add("0x" + Long.toHexString(start) + "-0x" + Long.toHexString(end));
            last = k;
        }
        String why = last.kallsyms().why();
        // the last window's reason, which names the file, for all of them
        String reason = why.startsWith(file + ": ") ? why.substring(file.toString().length() + 2) : why;
        return last.withKallsyms(kernelloader.image.Facet.absent(file + ": no kallsyms table in any of the " + windows.size()
                + " windows of " + (length >> 20) + " MiB a " + size + "-byte file is searched in (" + String.join(", ", windows)
                + "); in the last: " + reason), size);
    }
}
