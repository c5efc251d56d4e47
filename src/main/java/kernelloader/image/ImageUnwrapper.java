package kernelloader.image;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Peels a kernel file down to images worth searching: the file itself, then every compressed
 * stream embedded in it (zImage, bzImage, self-decompressing ELF, EFI zboot, flash dumps with
 * leading garbage), recursively. The caller's {@link Probe} decides which image is the kernel.
 *
 * Every stream is found by its magic rather than by trusting a container header, so the same
 * path serves headers we parse and ones we have never seen; the number of attempts, the depth
 * and each decoder's output are bounded, so hostile input cannot make this loop or balloon.
 */
public final class ImageUnwrapper {
    /** Tests one image; returns a result to stop the search, or null to go on. */
    public interface Probe<T> {
        T probe(KernelImage image);
    }

    /** What the search found, and the record of everything it tried. */
    public record Result<T>(T value, KernelImage image, List<String> attempts) {}

    static final int MAX_DEPTH = 4;
    static final int MAX_ATTEMPTS = 96;
    /** Decoded streams smaller than this cannot be a kernel (the smallest real ones are >1 MB). */
    static final int MIN_KERNEL = 64 * 1024;

    private final List<String> attempts = new ArrayList<>();
    private int decodes;

    public static <T> Result<T> search(byte[] file, int length, Probe<T> probe) {
        ImageUnwrapper u = new ImageUnwrapper();
        KernelImage top = u.image(file, length, List.of());
        Holder<T> found = new Holder<>();
        u.visit(top, 0, probe, found);
        return new Result<>(found.value, found.image, Collections.unmodifiableList(u.attempts));
    }

    private static final class Holder<T> {
        T value;
        KernelImage image;
    }

    private KernelImage image(byte[] data, int length, List<Layer> layers) {
        ElfHeader elf = null;
        if (ElfHeader.hasMagic(data, length, 0)) {
            try {
                elf = ElfHeader.parse(data, length);
                layers = append(layers, new Layer("ELF", 0, length,
                        elf.bits() + "-bit " + (elf.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? "LE" : "BE")
                                + ", e_machine " + elf.machine()));
            } catch (KernelFormatException e) {
                attempts.add("ELF header: " + e.getMessage());
            }
        }
        return new KernelImage(data, length, layers, elf);
    }

    private static List<Layer> append(List<Layer> layers, Layer l) {
        List<Layer> out = new ArrayList<>(layers);
        out.add(l);
        return Collections.unmodifiableList(out);
    }

    private <T> boolean visit(KernelImage img, int depth, Probe<T> probe, Holder<T> found) {
        T v = probe.probe(img);
        if (v != null) {
            found.value = v;
            found.image = img;
            return true;
        }
        if (depth >= MAX_DEPTH) return false;
        byte[] data = img.data();
        int length = img.length();
        int pos = 0;
        while (pos < length && decodes < MAX_ATTEMPTS) {
            Compression c = null;
            int at = -1;
            for (int i = pos; i < length; i++) {
                c = compressionAt(data, length, i);
                if (c != null) {
                    at = i;
                    break;
                }
            }
            if (at < 0) break;
            decodes++;
            long limit = Math.min(1536L << 20, Math.max(128L << 20, 32L * (length - at)));
            Compression.Decoded d = c.decode(data, at, length, limit);
            String where = img.describeLayers() + " + 0x" + Integer.toHexString(at);
            attempts.add(c.displayName() + " stream at " + where + ": " + d.length() + " bytes"
                    + (d.complete() ? "" : " (" + d.error() + ")"));
            if (d.length() >= MIN_KERNEL) {
                String detail = "offset 0x" + Integer.toHexString(at) + ", " + d.length() + " bytes"
                        + (d.complete() ? "" : ", stream damaged: " + d.error());
                KernelImage child = image(d.data(), d.length(), append(img.layers(),
                        new Layer(c.displayName(), at, -1, detail)));
                if (visit(child, depth + 1, probe, found)) return true;
            }
            // Magic-looking bytes inside a stream that decoded are its data, not new streams:
            // skip what the decoder consumed (less a little for decoders that read ahead).
            pos = d.length() >= MIN_KERNEL ? Math.max(at + 1, at + d.consumed() - 4096) : at + 1;
        }
        return false;
    }

    private static Compression compressionAt(byte[] data, int length, int i) {
        byte b = data[i];
        // quick reject on the first byte before the full header checks
        if (b != 0x1f && b != 'B' && b != (byte) 0xfd && b != 0x5d && b != (byte) 0x89 && b != 0x02 && b != 0x28) {
            return null;
        }
        for (Compression c : Compression.values()) {
            if (c.firstMagicByte() == b && c.startsAt(data, length, i)) return c;
        }
        return null;
    }
}
