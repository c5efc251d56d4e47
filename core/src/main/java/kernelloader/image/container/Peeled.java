package kernelloader.image.container;

import java.util.LinkedHashMap;
import java.util.Map;

import kernelloader.image.Layer;

/**
 * What a container header says: its kind and fields, and where the kernel inside it lies.
 *
 * @param kind           the layer's name ("boot.img v2", "uImage", ...)
 * @param fields         header fields worth showing (page size, cmdline, load address, ...)
 * @param payloadOffset  file offset of the kernel inside the container, or -1 if the header
 *                       only describes the bytes it sits on (an arm64 Image header)
 * @param payloadLength  length of that payload
 * @param noKernel       the container is recognised but carries no kernel (vendor_boot): why
 * @param arch           the architecture the header names (an Architecture name), or null
 */
public record Peeled(String kind, int offset, Map<String, String> fields, int payloadOffset, int payloadLength,
                     String noKernel, String arch) {

    public static Peeled header(String kind, int offset, Map<String, String> fields) {
        return new Peeled(kind, offset, fields, -1, 0, null, null);
    }

    public static Peeled wrapping(String kind, int offset, Map<String, String> fields, int payloadOffset, int payloadLength) {
        return new Peeled(kind, offset, fields, payloadOffset, payloadLength, null, null);
    }

    /** The same, saying which architecture the header names. */
    public Peeled withArch(String arch) {
        return new Peeled(kind, offset, fields, payloadOffset, payloadLength, noKernel, arch);
    }

    public boolean wraps() { return payloadOffset >= 0; }

    public Layer layer() {
        StringBuilder sb = new StringBuilder();
        fields.forEach((k, v) -> {
            if (sb.length() > 0) sb.append(", ");
            sb.append(k).append(' ').append(v);
        });
        return new Layer(kind, offset, wraps() ? payloadOffset + (long) payloadLength - offset : -1, sb.toString(), arch);
    }

    static Map<String, String> map(Object... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            if (kv[i + 1] != null) m.put((String) kv[i], String.valueOf(kv[i + 1]));
        }
        return m;
    }
}
