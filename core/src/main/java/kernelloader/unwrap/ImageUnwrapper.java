package kernelloader.unwrap;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import kernelloader.dump.PhysicalMemory;
import kernelloader.image.ByteView;
import kernelloader.image.Compression;
import kernelloader.image.ElfHeader;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;
import kernelloader.image.container.Container;
import kernelloader.image.container.Containers;
import kernelloader.image.container.Peeled;

/**
 * Peels a kernel file down to images worth searching, in any nesting: container headers at the
 * start of each layer (boot.img, uImage, FIT, bzImage, EFI zboot, ...), then every compressed
 * stream or container embedded anywhere in it (zImage payloads, flash dumps with leading
 * garbage), recursively. The caller's {@link Probe} decides which image is the kernel.
 *
 * Streams are found by their magic rather than only where a header points, so the same path
 * serves headers we parse and ones we have never seen. The number of attempts, the depth and
 * each decoder's output are bounded, so hostile input cannot make this loop or balloon.
 */
public final class ImageUnwrapper {
    /** Tests one image; returns a result to stop the search, or null to go on. */
    public interface Probe<T> {
        T probe(KernelImage image);
    }

    /** What the search found, and the record of everything it tried. */
    public record Result<T>(T value, KernelImage image, List<String> attempts) {}

    /** The layer kind of a memory dump read as an ELF core (its memory, not an ELF file). */
    public static final String ELF_CORE = PhysicalMemory.ELF_CORE;

    static final int MAX_DEPTH = 8;
    static final int MAX_ATTEMPTS = 96;
    /**
     * Output of all decodes of one file together: each is capped on its own, and this keeps a
     * file of many streams (or many small bombs) from allocating 96 caps' worth.
     */
    static final long MAX_DECODED_TOTAL = 2048L << 20;
    /** Images (the file, payloads, decoded streams) searched for one file. */
    static final int MAX_VISITS = 256;
    /** Decoded streams smaller than this cannot be a kernel (the smallest real ones are >1 MB). */
    static final int MIN_KERNEL = 64 * 1024;

    private final List<String> attempts = new ArrayList<>();
    private int decodes;
    private long decodedTotal;
    private int visits;
    private boolean visitsReported;
    private boolean depthReported;
    private boolean attemptsReported;

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
        // a LiME memory image: its ranges are physical memory
        if (layers.isEmpty() && PhysicalMemory.isLime(data, length)) {
            PhysicalMemory lime = PhysicalMemory.ofLime(data, length);
            if (lime != null) return lime.image(data, length, layers);
        }
        ElfHeader elf = null;
        if (ElfHeader.hasMagic(data, length, 0)) {
            try {
                elf = ElfHeader.parse(data, length);
                if (elf.isCore()) return PhysicalMemory.ofElfCore(elf, length).image(data, length, layers);
                layers = append(layers, new Layer("ELF", 0, length,
                        elf.bits() + "-bit " + (elf.order() == ByteOrder.LITTLE_ENDIAN ? "LE" : "BE")
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
        if (depth > MAX_DEPTH) {
            if (!depthReported) attempts.add("stopped: layers nested more than " + MAX_DEPTH + " deep");
            depthReported = true;
            return false;
        }
        // containers found inside containers are visited again from each enclosing layer: without
        // a bound, 100 nested headers would be visited 100^8 times
        if (++visits > MAX_VISITS) {
            if (!visitsReported) attempts.add("stopped: " + MAX_VISITS + " images searched");
            visitsReported = true;
            return false;
        }
        ByteView le = new ByteView(img.data(), img.length(), ByteOrder.LITTLE_ENDIAN);
        // headers at the start: those that only describe these bytes become layers of this
        // image; those that wrap a payload are peeled after the image itself was searched
        List<Peeled> wrappers = new ArrayList<>();
        for (Peeled p : peelAt(le, 0, img.describeLayers())) {
            if (p.wraps()) wrappers.add(p);
            else if (p.noKernel() == null) img = new KernelImage(img.data(), img.length(), append(img.layers(), p.layer()), img.elf());
        }
        T v = probe.probe(img);
        if (v != null) {
            found.value = v;
            found.image = img;
            return true;
        }
        for (Peeled p : wrappers) {
            if (visitPayload(img, p, depth, probe, found)) return true;
        }
        return scan(img, le, depth, probe, found);
    }

    /** Every container whose header is at {@code offset}; a lying header is recorded, not thrown. */
    private List<Peeled> peelAt(ByteView le, int offset, String where) {
        List<Peeled> out = new ArrayList<>();
        for (Container c : Containers.ALL) {
            try {
                Peeled p = c.peel(le, offset);
                if (p == null) continue;
                if (p.noKernel() != null) attempts.add(0, p.kind() + " at " + where + " + 0x" + Integer.toHexString(offset) + ": " + p.noKernel());
                out.add(p);
            } catch (KernelFormatException e) {
                attempts.add(where + " + 0x" + Integer.toHexString(offset) + ": " + e.getMessage());
            } catch (RuntimeException e) {
                // a parser's own fault on a header it did not check: recorded as one attempt, the
                // search goes on with the other formats
                attempts.add(where + " + 0x" + Integer.toHexString(offset) + ": " + c.getClass().getSimpleName()
                        + " header not read (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            }
        }
        return out;
    }

    private <T> boolean visitPayload(KernelImage img, Peeled p, int depth, Probe<T> probe, Holder<T> found) {
        List<Layer> layers = append(img.layers(), p.layer());
        int from = p.payloadOffset(), end = from + p.payloadLength();
        Compression c = compressionAt(img.data(), end, from);
        if (c != null) {
            // decode straight out of the container: no copy of the compressed payload
            KernelImage child = decode(img, layers, c, from, end);
            return child != null && visit(child, depth + 1, probe, found);
        }
        if (p.payloadLength() < MIN_KERNEL) return false;
        byte[] slice = Arrays.copyOfRange(img.data(), from, end);
        return visit(image(slice, slice.length, layers), depth + 1, probe, found);
    }

    private KernelImage decode(KernelImage img, List<Layer> layers, Compression c, int at, int end) {
        if (decodes >= MAX_ATTEMPTS) return null;
        long left = MAX_DECODED_TOTAL - decodedTotal;
        if (left < MIN_KERNEL) {
            attempts.add("stopped: " + (MAX_DECODED_TOTAL >> 20) + " MiB decoded in all (many streams or bombs)");
            decodes = MAX_ATTEMPTS;   // ends every scan: nothing more will be decoded
            attemptsReported = true;  // (said above, with its own reason)
            return null;
        }
        decodes++;
        long limit = Math.min(left, Math.min(1536L << 20, Math.max(128L << 20, 32L * (end - at))));
        Compression.Decoded d = c.decode(img.data(), at, end, limit);
        decodedTotal += d.length();
        String where = img.describeLayers() + " + 0x" + Integer.toHexString(at);
        attempts.add(c.displayName() + " stream at " + where + ": " + d.length() + " bytes"
                + (d.complete() ? "" : " (" + d.error() + ")"));
        lastConsumed = d.consumed();
        if (d.length() < MIN_KERNEL) return null;
        String detail = "offset 0x" + Integer.toHexString(at) + ", " + d.length() + " bytes"
                + (d.complete() ? "" : ", stream damaged: " + d.error());
        return image(d.data(), d.length(), append(layers, new Layer(c.displayName(), at, -1, detail)));
    }

    private int lastConsumed;

    /** Compressed streams anywhere, and containers after the start, in file order. */
    private <T> boolean scan(KernelImage img, ByteView le, int depth, Probe<T> probe, Holder<T> found) {
        byte[] data = img.data();
        int length = img.length();
        int pos = 0;
        while (pos < length && decodes < MAX_ATTEMPTS && visits <= MAX_VISITS) {
            int at = -1;
            Compression c = null;
            // every stream and scanned container is told by a byte pair at an even and one at
            // an odd distance from its start (Compression.prefixes), at most 3 bytes in: so every
            // second pair is looked up, other bytes are never read, and at a pair in the table
            // the starts it may belong to are tried in file order
            byte[] pairs = PAIRS;
            for (int i = pos; i + 1 < length && at < 0; i += 2) {
                // four pairs at a time where none is in the table (nearly everywhere)
                if (i + 8 < length && (pairs[(data[i] & 0xff) << 8 | (data[i + 1] & 0xff)]
                        | pairs[(data[i + 2] & 0xff) << 8 | (data[i + 3] & 0xff)]
                        | pairs[(data[i + 4] & 0xff) << 8 | (data[i + 5] & 0xff)]
                        | pairs[(data[i + 6] & 0xff) << 8 | (data[i + 7] & 0xff)]) == 0) {
                    i += 6;
                    continue;
                }
                if (pairs[(data[i] & 0xff) << 8 | (data[i + 1] & 0xff)] == 0) continue;
                // a start more than 3 bytes back was told by an earlier pair
                for (int s = Math.max(pos, i - MAX_PAIR_OFFSET); s <= i && at < 0; s++) {
                    if (!STARTS[data[s] & 0xff]) continue;
                    c = compressionAt(data, length, s);
                    // (containers at offset 0 were peeled already)
                    if (c != null || (s > 0 && containerMagicAt(data, length, s))) at = s;
                }
            }
            if (at < 0) break;
            if (c == null) {
                for (Peeled p : peelAt(le, at, img.describeLayers())) {
                    if (p.wraps() && visitPayload(img, p, depth, probe, found)) return true;
                }
                pos = at + 1;
                continue;
            }
            lastConsumed = 0;
            KernelImage child = decode(img, img.layers(), c, at, length);
            if (child != null && visit(child, depth + 1, probe, found)) return true;
            // Magic-looking bytes inside a stream that decoded are its data, not new streams:
            // skip what the decoder consumed (less a little for decoders that read ahead).
            pos = child != null ? Math.max(at + 1, at + lastConsumed - 4096) : at + 1;
        }
        if (pos < length && decodes >= MAX_ATTEMPTS && !attemptsReported) {
            // how far the search got: what lies after this was not looked at
            attempts.add("stopped: " + MAX_ATTEMPTS + " streams tried, at " + img.describeLayers() + " + 0x" + Integer.toHexString(pos)
                    + " of 0x" + Integer.toHexString(length));
            attemptsReported = true;
        }
        return false;
    }

    /** For each first byte, the compressions whose streams can start with it (the scan asks at many bytes). */
    private static final Compression[][] BY_FIRST_BYTE = new Compression[256][];
    static {
        for (int b = 0; b < 256; b++) {
            List<Compression> cs = new ArrayList<>();
            for (Compression c : Compression.values()) if (c.mayStartWith(b)) cs.add(c);
            BY_FIRST_BYTE[b] = cs.toArray(new Compression[0]);
        }
    }

    /** How far into a prefix its odd-distance pair may start (LZMA's dictionary bytes 3-4). */
    private static final int MAX_PAIR_OFFSET = 3;
    /**
     * The byte pairs (first << 8 | second) that tell a compressed stream or a scanned
     * container magic (non-zero: this pair may lie 0 to 3 bytes into one), and the bytes such a
     * prefix starts with.
     */
    private static final byte[] PAIRS = new byte[1 << 16];
    private static final boolean[] STARTS = new boolean[256];
    static {
        List<byte[]> prefixes = new ArrayList<>();
        for (Compression c : Compression.values()) prefixes.addAll(c.prefixes());
        for (byte[] m : Containers.SCANNED_MAGICS) prefixes.add(Arrays.copyOf(m, 3));
        for (byte[] p : prefixes) {
            // the pair at distance 0, and the one at distance 1 (3 for a five-byte prefix)
            int odd = p.length == 3 ? 1 : 3;
            PAIRS[(p[0] & 0xff) << 8 | (p[1] & 0xff)] = 1;
            PAIRS[(p[odd] & 0xff) << 8 | (p[odd + 1] & 0xff)] = 1;
            STARTS[p[0] & 0xff] = true;
        }
        if (PAIRS[0] != 0) throw new AssertionError("a prefix told by a pair of zeros would make every run of zeros a candidate");
    }

    private static boolean containerMagicAt(byte[] data, int length, int i) {
        for (byte[] m : Containers.SCANNED_MAGICS) {
            if (data[i] == m[0] && i + m.length <= length) {
                boolean ok = true;
                for (int k = 1; k < m.length && ok; k++) ok = data[i + k] == m[k];
                if (ok) return true;
            }
        }
        return false;
    }

    private static Compression compressionAt(byte[] data, int length, int i) {
        if (i < 0 || i >= length) return null;
        for (Compression c : BY_FIRST_BYTE[data[i] & 0xff]) {
            if (c.startsAt(data, length, i)) return c;
        }
        return null;
    }
}
