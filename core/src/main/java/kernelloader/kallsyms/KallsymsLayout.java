package kernelloader.kallsyms;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where each kallsyms array was found (file offsets in the peeled image) and which of the
 * kernel's encodings it uses. Offsets of arrays a kernel does not have are -1.
 */
public record KallsymsLayout(
        int tokenTable, int tokenIndex, int names, int namesEnd, int markers, int markerWidth,
        int numSyms, int numSymsWidth, int addresses, int addressWidth, AddressEncoding encoding,
        int relativeBase, int seqsOfNames, boolean lengthsUleb128, boolean addressesAfterTokenIndex) {

    /**
     * The kernel versions whose scripts/kallsyms.c writes this layout, from its features. Stable
     * backports mix features, so this names the features and the range they imply.
     */
    public String era() {
        StringBuilder sb = new StringBuilder();
        switch (encoding) {
            case SELF_RELATIVE -> sb.append("7.0+");
            case ABSOLUTE_32 -> sb.append("6.4-6.10 or 7.0+");
            case ABSOLUTE -> sb.append(addressesAfterTokenIndex ? "6.4-6.10" : (markerWidth == 4 && numSymsWidth == 4 && lengthsUleb128 ? "6.1-6.3" : "2.6.10-6.3"));
            default -> {
                if (addressesAfterTokenIndex) sb.append(encoding == AddressEncoding.ABSOLUTE_PERCPU ? "6.4-6.14" : "6.4-6.19");
                else if (seqsOfNames >= 0) sb.append("6.2-6.3");
                else if (lengthsUleb128) sb.append("6.1");
                else if (markerWidth == 8) sb.append("4.6-4.19");
                else sb.append("4.6-6.0");
            }
        }
        return sb.toString();
    }

    /** The image offset where the first of the arrays starts. */
    public int start() {
        int s = Integer.MAX_VALUE;
        for (int off : arrays().values()) if (off >= 0) s = Math.min(s, off);
        return s;
    }

    /**
     * The image offset past the last of the arrays of a table of {@code symbols} symbols
     * (relative_base and padding after the address array included): what counting the image's
     * pointers must leave out, as an absolute address array points at every symbol itself.
     */
    public int end(int symbols) {
        long e = Math.max(namesEnd, (long) addresses + (long) symbols * addressWidth + 16);
        if (tokenIndex >= 0) e = Math.max(e, tokenIndex + 512L);
        if (seqsOfNames >= 0) e = Math.max(e, seqsOfNames + 4L * symbols);
        if (relativeBase >= 0) e = Math.max(e, relativeBase + 8L);
        return (int) Math.min(Integer.MAX_VALUE, e);
    }

    /** The array offsets for display, in image order of appearance. */
    public Map<String, Integer> arrays() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put(encoding == AddressEncoding.ABSOLUTE ? "kallsyms_addresses" : "kallsyms_offsets", addresses);
        if (relativeBase >= 0) m.put("kallsyms_relative_base", relativeBase);
        if (numSyms >= 0) m.put("kallsyms_num_syms", numSyms);
        m.put("kallsyms_names", names);
        m.put("kallsyms_markers", markers);
        if (seqsOfNames >= 0) m.put("kallsyms_seqs_of_names", seqsOfNames);
        m.put("kallsyms_token_table", tokenTable);
        m.put("kallsyms_token_index", tokenIndex);
        return m;
    }
}
