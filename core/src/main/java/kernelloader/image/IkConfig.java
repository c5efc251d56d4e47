package kernelloader.image;

import java.nio.charset.StandardCharsets;

/**
 * The kernel's own .config, embedded with CONFIG_IKCONFIG (kernel/configs.c): the gzip of
 * .config between the markers "IKCFG_ST" and "IKCFG_ED", as scripts/extract-ikconfig finds it.
 */
public final class IkConfig {
    private static final byte[] START = "IKCFG_ST".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] END = "IKCFG_ED".getBytes(StandardCharsets.ISO_8859_1);

    /** Starts tried at most: a kernel has one blob (and its marker string in code); more is a hostile image. */
    static final int MAX_STARTS = 64;

    private IkConfig() {}

    /** The .config text, or null if the image carries none. */
    public static String find(KernelImage img) {
        int from = 0, tried = 0;
        // the first end marker after the current start: found once, and again only when a start
        // lies past it (each start searching to the end of the file was quadratic in the starts)
        int ed = -2;
        while (tried < MAX_STARTS) {
            int st = ByteView.indexOf(img.data(), img.length(), START, from);
            if (st < 0) return null;
            int gz = st + START.length;
            from = st + 1;
            if (!Compression.GZIP.startsAt(img.data(), img.length(), gz)) continue;   // the string in code, not the blob
            tried++;
            if (ed == -2 || (ed >= 0 && ed < gz)) ed = ByteView.indexOf(img.data(), img.length(), END, gz);
            int end = ed < 0 ? img.length() : ed;
            Compression.Decoded d = Compression.GZIP.decode(img.data(), gz, end, 16L << 20);
            if (d.length() > 0) return new String(d.data(), 0, d.length(), StandardCharsets.ISO_8859_1);
        }
        return null;
    }

    /** A one-line summary for `info`: option count and the options that matter to us. */
    public static String summary(String config) {
        if (config == null) return null;
        int set = 0;
        StringBuilder key = new StringBuilder();
        for (String line : config.split("\n")) {
            if (line.startsWith("CONFIG_")) set++;
            for (String k : new String[] {"CONFIG_KALLSYMS_ALL", "CONFIG_RELOCATABLE", "CONFIG_MODVERSIONS", "CONFIG_DEBUG_INFO_BTF"}) {
                if (line.startsWith(k + "=")) key.append(", ").append(line);
            }
        }
        return set + " options set" + key;
    }
}
