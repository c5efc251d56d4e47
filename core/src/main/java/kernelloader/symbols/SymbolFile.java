package kernelloader.symbols;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import kernelloader.image.KernelFormatException;
import kernelloader.kallsyms.KallsymsTable;

/**
 * Symbols a user already has for a kernel: a {@code System.map} (nm's "ADDRESS TYPE NAME" lines,
 * as the kernel build writes it) or a {@code /proc/kallsyms} listing (the same, with
 * "[module]" lines for loaded modules, which are not in the image and are skipped).
 *
 * <p>The word size is the width of the addresses (16 hex digits: 64-bit); the byte order is the
 * image's, so the table is made for one order at a time ({@link #table}).
 */
public final class SymbolFile {
    /** Lines beyond this are not a kernel's symbol list (real ones hold a few hundred thousand). */
    static final int MAX_SYMBOLS = 4 << 20;

    private final String source;
    private final int bits;
    private final long[] addresses;
    private final byte[] types;
    private final String[] names;
    private final int moduleLines;

    private SymbolFile(String source, int bits, long[] addresses, byte[] types, String[] names, int moduleLines) {
        this.source = source;
        this.bits = bits;
        this.addresses = addresses;
        this.types = types;
        this.names = names;
        this.moduleLines = moduleLines;
    }

    public static SymbolFile read(Path file) throws KernelFormatException {
        if (!Files.isRegularFile(file)) throw new KernelFormatException("symbols file " + file + ": no such file");
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            return parse(file.toString(), r);
        } catch (IOException e) {
            throw new KernelFormatException("symbols file " + file + ": cannot read it (" + e.getMessage() + ")");
        }
    }

    static SymbolFile parse(String source, BufferedReader r) throws IOException, KernelFormatException {
        List<long[]> rows = new ArrayList<>();
        List<String> names = new ArrayList<>();
        int digits = -1, modules = 0, lineNo = 0, nonZero = 0;
        String line;
        while ((line = r.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) continue;
            String[] f = line.trim().split("\\s+");
            if (f.length == 4 && f[3].startsWith("[")) {   // /proc/kallsyms: a loaded module's symbol
                modules++;
                continue;
            }
            if (f.length != 3 || f[1].length() != 1 || !hex(f[0])) {
                throw new KernelFormatException("symbols file " + source + ", line " + lineNo + ": \"" + abbreviate(line)
                        + "\" is not \"ADDRESS TYPE NAME\" (System.map or /proc/kallsyms)");
            }
            if (digits < 0) digits = f[0].length();
            long a = Long.parseUnsignedLong(f[0], 16);
            if (a != 0) nonZero++;
            rows.add(new long[] {a, f[1].charAt(0), names.size()});
            names.add(f[2]);
            if (rows.size() > MAX_SYMBOLS) throw new KernelFormatException("symbols file " + source + ": more than " + MAX_SYMBOLS + " lines");
        }
        if (rows.isEmpty()) throw new KernelFormatException("symbols file " + source + ": no symbols in it");
        if (nonZero == 0) {
            throw new KernelFormatException("symbols file " + source + ": every address is 0 (a /proc/kallsyms read without"
                    + " privileges under kptr_restrict: read it as root)");
        }
        int bits = digits > 8 ? 64 : 32;
        // kallsyms order: by address; names at one address keep the file's order
        rows.sort((x, y) -> x[0] != y[0] ? Long.compareUnsigned(x[0], y[0]) : Long.compare(x[2], y[2]));
        long[] addr = new long[rows.size()];
        byte[] types = new byte[rows.size()];
        String[] out = new String[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            addr[i] = rows.get(i)[0];
            types[i] = (byte) rows.get(i)[1];
            out[i] = names.get((int) rows.get(i)[2]);
        }
        return new SymbolFile(source, bits, addr, types, out, modules);
    }

    public String source() { return source; }
    public int bits() { return bits; }
    public int size() { return names.length; }

    /** The symbols as a table for an image of byte order {@code order}, at the file's word size. */
    public KallsymsTable table(ByteOrder order) {
        return KallsymsTable.of(KallsymsTable.Origin.SYMBOLS_FILE, bits, order, addresses.clone(), types.clone(), names.clone(), describe());
    }

    /**
     * The readings of this file for an image of byte order {@code order}: at the file's word
     * size, and, when every 64-bit address is a sign-extended 32-bit one (nm of the ELF64
     * vmlinux of a 32-bit MIPS kernel prints ffffffff80100400), also as 32-bit.
     */
    public List<KallsymsTable> tables(ByteOrder order) {
        List<KallsymsTable> out = new ArrayList<>(2);
        out.add(table(order));
        boolean signExtended32 = bits == 64;
        for (int i = 0; i < addresses.length && signExtended32; i++) {
            long hi = addresses[i] >>> 32;
            signExtended32 = hi == 0 || (hi == 0xffffffffL && (addresses[i] & 0x80000000L) != 0);
        }
        if (signExtended32) {
            long[] low = new long[addresses.length];
            for (int i = 0; i < low.length; i++) low[i] = addresses[i] & 0xffffffffL;
            out.add(KallsymsTable.of(KallsymsTable.Origin.SYMBOLS_FILE, 32, order, low, types.clone(), names.clone(), describe()));
        }
        return out;
    }

    /** "System.map (45000 symbols)": where a table's symbols came from, for reports. */
    public String describe() {
        return "the symbols file " + Path.of(source).getFileName() + " (" + names.length + " symbols"
                + (moduleLines > 0 ? "; " + moduleLines + " module symbols skipped" : "") + ")";
    }

    /**
     * How this file agrees with the image's own table: the share of the file's names the table
     * lists whose address in the file is one the table gives them, and the commonest difference
     * where they disagree (a KASLR slide shows as one).
     */
    public Agreement agreementWith(KallsymsTable t) {
        java.util.Map<String, List<Long>> byName = new java.util.HashMap<>(t.size() * 2);
        for (int i = 0; i < t.size(); i++) byName.computeIfAbsent(t.name(i), x -> new ArrayList<>(1)).add(t.address(i));
        int common = 0, equal = 0;
        java.util.Map<Long, Integer> deltas = new java.util.HashMap<>();
        long mask = t.bits() == 32 ? 0xffffffffL : -1L;
        for (int i = 0; i < names.length; i++) {
            List<Long> at = byName.get(names[i]);
            if (at == null) continue;
            common++;
            long a = addresses[i] & mask;
            if (at.contains(a)) equal++;
            else deltas.merge((a - at.get(0)) & mask, 1, Integer::sum);
        }
        long commonest = 0;
        int most = 0;
        for (var e : deltas.entrySet()) if (e.getValue() > most) { most = e.getValue(); commonest = e.getKey(); }
        return new Agreement(common, equal, commonest, most);
    }

    /** @param common names in both; equal those at the same address; slide the commonest difference, seen slideCount times */
    public record Agreement(int common, int equal, long slide, int slideCount) {}

    private static boolean hex(String s) {
        if (s.isEmpty() || s.length() > 16) return false;
        for (int i = 0; i < s.length(); i++) if (Character.digit(s.charAt(i), 16) < 0) return false;
        return true;
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}
