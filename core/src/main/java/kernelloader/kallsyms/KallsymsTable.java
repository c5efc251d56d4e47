package kernelloader.kallsyms;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.CharBuffer;

/**
 * The kernel's symbol table as /proc/kallsyms shows it: per symbol an address, a type letter and
 * a name, in table (address) order. Immutable once built.
 */
public final class KallsymsTable {
    /** Where a table's symbols came from. */
    public enum Origin {
        /** the image's own kallsyms */
        KALLSYMS,
        /** a System.map or /proc/kallsyms listing the user gave */
        SYMBOLS_FILE,
        /** the image's __ksymtab: a kernel built without CONFIG_KALLSYMS; only exports are known */
        EXPORTS
    }

    private final Origin origin;
    private final int bits;
    private final ByteOrder order;
    private final long[] addresses;
    private final byte[] types;
    private final String[] names;
    private final KallsymsLayout layout;
    private final String baseEvidence;
    private final Long imageBase;

    KallsymsTable(int bits, ByteOrder order, long[] addresses, byte[] types, String[] names,
                  KallsymsLayout layout, String baseEvidence, Long imageBase) {
        this(Origin.KALLSYMS, bits, order, addresses, types, names, layout, baseEvidence, imageBase);
    }

    private KallsymsTable(Origin origin, int bits, ByteOrder order, long[] addresses, byte[] types, String[] names,
                          KallsymsLayout layout, String baseEvidence, Long imageBase) {
        this.origin = origin;
        this.bits = bits;
        this.order = order;
        this.addresses = addresses;
        this.types = types;
        this.names = names;
        this.layout = layout;
        this.baseEvidence = baseEvidence;
        this.imageBase = imageBase;
    }

    /**
     * A table of symbols that did not come from the image's own kallsyms (a System.map, a
     * /proc/kallsyms listing, the __ksymtab exports): no kallsyms layout, and {@code source}
     * says where they came from.
     */
    public static KallsymsTable of(Origin origin, int bits, ByteOrder order, long[] addresses, byte[] types, String[] names,
                                   String source) {
        if (origin == Origin.KALLSYMS) throw new IllegalArgumentException("a kallsyms table is decoded, not given");
        return new KallsymsTable(origin, bits, order, addresses, types, names, null, source, null);
    }

    /** The same names and types at other addresses: another reading of the same table (tests feed misreadings). */
    public KallsymsTable withAddresses(long[] other, String evidence) {
        if (other.length != addresses.length) throw new IllegalArgumentException("one address per symbol");
        return new KallsymsTable(origin, bits, order, other.clone(), types, names, layout, evidence, imageBase);
    }

    public Origin origin() { return origin; }

    /** The same table, placed: {@code base} is the address of the image's first byte (what fixed it is the evidence). */
    public KallsymsTable placedAt(long base) {
        return new KallsymsTable(origin, bits, order, addresses, types, names, layout, baseEvidence, base);
    }

    /** True when the symbols are the image's own kallsyms (else {@link #layout} is null). */
    public boolean fromKallsyms() { return origin == Origin.KALLSYMS; }

    /**
     * The address of the image's first byte when placing the table fixed it (7.0+ self-relative
     * offsets in a raw image), else null.
     */
    public Long imageBase() { return imageBase; }

    /** The address of the first symbol with this name, or null. */
    public Long addressOf(String name) {
        for (int i = 0; i < names.length; i++) if (names[i].equals(name)) return addresses[i];
        return null;
    }

    public int bits() { return bits; }
    public ByteOrder order() { return order; }
    public int size() { return names.length; }
    public long address(int i) { return addresses[i]; }
    public char type(int i) { return (char) (types[i] & 0xff); }
    public String name(int i) { return names[i]; }
    public KallsymsLayout layout() { return layout; }
    /**
     * How absolute addresses were obtained: from kallsyms itself, or what fixed the base; for a
     * table not from kallsyms, where its symbols came from.
     */
    public String baseEvidence() { return baseEvidence; }

    /** Writes the table in /proc/kallsyms format: {@code %0Nx %c %s}, N = 16 or 8. */
    public void writeProcKallsyms(Appendable out) throws IOException {
        int digits = bits / 4;
        char[] line = new char[digits + 3 + 512];
        final char[] hex = "0123456789abcdef".toCharArray();
        for (int i = 0; i < names.length; i++) {
            long a = addresses[i];
            for (int d = digits - 1; d >= 0; d--) {
                line[d] = hex[(int) (a & 0xf)];
                a >>>= 4;
            }
            line[digits] = ' ';
            line[digits + 1] = type(i);
            line[digits + 2] = ' ';
            String n = names[i];
            int len = Math.min(n.length(), line.length - digits - 4);
            n.getChars(0, len, line, digits + 3);
            line[digits + 3 + len] = '\n';
            out.append(CharBuffer.wrap(line, 0, digits + 4 + len));
        }
    }
}
