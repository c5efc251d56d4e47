package kernelloader.kallsyms;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import kernelloader.image.ByteView;
import kernelloader.image.KernelImage;
import kernelloader.evidence.BaseAddressVoter;
import kernelloader.evidence.PointerEvidence;
import kernelloader.evidence.StringPointers;

/**
 * Finds and decodes the kallsyms table of a peeled kernel image. The layout era is read from the
 * bytes (see {@link TokenTable}, {@link NameTable}, {@link AddressTable}), never from a version
 * string, because stable kernels carry backports from later eras.
 */
public final class KallsymsFinder {
    /** What a search concluded: a table, or why each candidate was rejected. */
    public record Outcome(KallsymsTable table, List<String> rejected) {}

    /** Overrides a user may give when the image cannot tell. */
    /**
     * What the caller knows: the word size, and the address of the image's first byte with its
     * evidence (null: "given by the user"; a kernel cut out of a dump at its _text says so).
     */
    public record Hints(Integer bits, Long base, String baseEvidence, Long tokenTableAddress) {
        public static final Hints NONE = new Hints(null, null, null, null);

        public Hints(Integer bits, Long base) {
            this(bits, base, null, null);
        }

        public Hints(Integer bits, Long base, String baseEvidence) {
            this(bits, base, baseEvidence, null);
        }

        /**
         * These hints with the runtime address of kallsyms_token_table, as a memory dump's
         * VMCOREINFO states it ({@code evidence}: where): what places a 7.0+ self-relative table
         * whose pointers do not decide its base.
         */
        public Hints withTokenTableAt(long address, String evidence) {
            return new Hints(bits, base, evidence, address);
        }
    }

    /**
     * Which name encodings to look for. Plain (OpenWRT) names have no anchor and need a scan of
     * every byte, so the reader first looks for token tables in every layer and only then, if
     * none was found anywhere, for plain names.
     */
    public enum Names { COMPRESSED, UNCOMPRESSED }

    private KallsymsFinder() {}

    public static Outcome find(KernelImage img, Hints hints) {
        return find(img, hints, Names.COMPRESSED);
    }

    public static Outcome find(KernelImage img, Hints hints, Names names) {
        return find(img, hints, names, t -> true);
    }

    /**
     * The first table in {@code img} that {@code accept} takes: a file may hold several kernels
     * (a flash dump with boot and recovery), and the caller may want a later one.
     */
    public static Outcome find(KernelImage img, Hints hints, Names names, Predicate<KallsymsTable> accept) {
        List<String> rejected = new ArrayList<>();
        Integer bits = hints.bits() != null ? hints.bits() : img.elf() != null ? Integer.valueOf(img.elf().bits()) : null;
        List<TokenTable> tables = names == Names.COMPRESSED ? TokenTable.findAll(img.data(), img.length()) : List.of();
        // a raw image's base will be voted by its pointers at its strings: find them meanwhile
        if (!tables.isEmpty() && img.elf() == null && hints.base() == null) StringPointers.prefetch(img.data(), img.length());
        for (TokenTable tt : tables) {
            ByteView v = new ByteView(img.data(), img.length(), tt.order());
            String at = "token table at 0x" + Integer.toHexString(tt.start());
            Located loc = locateNames(v, tt);
            if (loc == null) {
                rejected.add(at + ": no kallsyms_names/kallsyms_markers before it");
                continue;
            }
            KallsymsTable t = tryDecode(img, v, loc, bits, hints, at, rejected, accept);
            if (t != null) return new Outcome(t, rejected);
        }
        if (names == Names.UNCOMPRESSED) {
            // OpenWRT's KALLSYMS_UNCOMPRESSED: plain names and no token arrays
            for (Located loc : UncompressedNames.locate(img.data(), img.length())) {
                ByteView v = new ByteView(img.data(), img.length(), loc.order());
                String at = "uncompressed names at 0x" + Integer.toHexString(loc.names().start);
                KallsymsTable t = tryDecode(img, v, loc, bits, hints, at, rejected, accept);
                if (t != null) return new Outcome(t, rejected);
            }
        }
        return new Outcome(null, rejected);
    }

    /**
     * The first reading of the address arrays behind {@code loc} that {@code accept} takes, in
     * order of preference (see {@link #readings}); null when there is none, with why.
     */
    private static KallsymsTable tryDecode(KernelImage img, ByteView v, Located loc, Integer bits, Hints base,
                                           String at, List<String> rejected, Predicate<KallsymsTable> accept) {
        Map<AddressTable, BaseAddressVoter.Vote> votes = new HashMap<>();
        List<AddressTable> readings = readings(v, loc, bits, votes);
        if (readings.isEmpty()) {
            rejected.add(at + ": names found (" + loc.names().count + " symbols) but no sorted address table");
            return null;
        }
        String[][] names = {null};
        byte[][] types = {null};
        for (AddressTable a : readings) {
            KallsymsTable t;
            try {
                if (names[0] == null) {   // names decode once for every reading of the addresses
                    names[0] = new String[loc.names().count];
                    types[0] = new byte[loc.names().count];
                    expandNames(v, loc.tokens(), loc.names(), types[0], names[0]);
                }
                t = decode(img, v, loc, a, base, types[0], names[0], votes);
            } catch (BaseUnknownException e) {
                rejected.add(at + ": " + e.getMessage());
                continue;
            }
            if (accept.test(t)) return t;
        }
        return null;
    }

    private static final class BaseUnknownException extends Exception {
        BaseUnknownException(String m) { super(m); }
    }

    /**
     * Names and markers found, with what decodes them.
     *
     * @param tokens     the 256 token strings (identity tokens for uncompressed names)
     * @param tokenTable the token table, or null for uncompressed names
     * @param after      where 6.4+ kernels put the address arrays (after the token index, or
     *                   after the markers when there are no token arrays)
     * @param seqs       offset of kallsyms_seqs_of_names when it sits before the token table, or -1
     */
    record Located(NameTable names, int seqs, byte[][] tokens, TokenTable tokenTable, int after, ByteOrder order) {}

    private static Located locateNames(ByteView v, TokenTable tt) {
        // all eras but 6.2-6.3: kallsyms_markers ends right before the token table (+ padding)
        int top = tt.start() & ~3;
        for (int e = top; e >= Math.max(0, tt.start() - 264); e -= 4) {
            for (int w : new int[] {4, 8}) {
                if (e % w != 0) continue;
                MarkerTable m = MarkerTable.endingAt(v, e, w, 1 << 16);
                if (m == null) continue;
                NameTable n = NameTable.fit(v, m, -1);
                if (n != null) return compressed(n, -1, tt);
            }
        }
        // 6.2-6.3 (60443c88f3a8, 19bd8981dc2e, and 6.1.y backports): kallsyms_seqs_of_names
        // (3 bytes per symbol; 4 in 6.2-rc) sits between the markers and the token table
        for (int stride : new int[] {3, 4}) {
            int maxN = Math.min(1 << 21, tt.start() / stride);
            // every entry is a symbol number (< n <= 2^21), and the entries end at the padding:
            // n is at most the run of such values before it (short in bytes that are no table:
            // trying every n up to 2^21 there took seconds per token table candidate)
            int[] run = new int[8];
            int longest = 0;
            for (int pad = 0; pad < 8; pad++) longest = Math.max(longest, run[pad] = seqsRun(v, tt.start() - pad, stride, maxN));
            for (int n = 257; n <= longest; n++) {
                int groups = (n + 255) >>> 8;
                for (int pad = 0; pad < 8; pad++) {
                    if (n > run[pad]) continue;
                    int seqs = tt.start() - pad - stride * n;
                    if ((seqs & 3) != 0) continue;
                    for (int e : new int[] {seqs, seqs - 4}) {
                        int first = e - 4 * groups;
                        if (first < 0 || v.u32(first) != 0 || v.u32(e - 4) == 0) continue;
                        MarkerTable m = MarkerTable.endingAt(v, e, 4, groups + 1);
                        if (m == null || m.count() != groups) continue;
                        if (!seqsValid(v, seqs, n, stride)) continue;
                        NameTable names = NameTable.fit(v, m, n);
                        if (names != null) return compressed(names, seqs, tt);
                    }
                }
            }
        }
        return null;
    }

    private static Located compressed(NameTable names, int seqs, TokenTable tt) {
        byte[][] tokens = new byte[256][];
        for (int i = 0; i < 256; i++) tokens[i] = tt.token(i);
        return new Located(names, seqs, tokens, tt, tt.indexEnd(), tt.order());
    }

    /** How many entries of {@code stride} bytes before {@code end} hold values below 2^21, at most {@code max}. */
    private static int seqsRun(ByteView v, int end, int stride, int max) {
        int run = 0;
        for (int p = end - stride; p >= 0 && run < max; p -= stride, run++) {
            long s = stride == 3 ? (v.u8(p) << 16 | v.u8(p + 1) << 8 | v.u8(p + 2)) : v.u32(p);
            if (s >= 1 << 21) break;
        }
        return run;
    }

    /** kallsyms_seqs_of_names is a permutation of 0..n-1 (big-endian 3-byte, or u32). */
    private static boolean seqsValid(ByteView v, int pos, int n, int stride) {
        int step = Math.max(1, n / 512);
        for (int i = 0; i < n; i += step) {
            int p = pos + stride * i;
            long s = stride == 3 ? (v.u8(p) << 16 | v.u8(p + 1) << 8 | v.u8(p + 2)) : v.u32(p);
            if (s >= n) return false;
        }
        return true;
    }

    /**
     * Every consistent reading of the address arrays, the likeliest first: the word size the
     * layout states (where kallsyms_num_syms sits), else the one the image's pointers favour;
     * then the others, for when the content checks refuse the first.
     */
    private static List<AddressTable> readings(ByteView v, Located loc, Integer bitsHint,
                                               Map<AddressTable, BaseAddressVoter.Vote> votes) {
        NameTable names = loc.names();
        int n = names.count;
        int[] ptrs = names.markers.width() == 8 ? new int[] {8}
                : bitsHint != null ? new int[] {bitsHint / 8} : new int[] {8, 4};
        List<AddressTable> all = new ArrayList<>();
        AddressTable chosen = null;
        AddressTable other = null;
        for (int ptr : ptrs) {
            List<AddressTable> found = AddressTable.find(v, n, loc.after(), names, ptr);
            if (found.isEmpty()) continue;
            all.addAll(found);
            if (chosen == null) chosen = found.get(0);
            else other = found.get(0);
        }
        if (other != null) {
            // Before 7.0 every label is aligned to the word size, so where kallsyms_num_syms sits
            // says it: 8 bytes before the names on 64-bit (a u32 is padded), 4 on 32-bit. From 7.0
            // (a081b5789255) labels are only 4-aligned, and the image's pointers must decide.
            int structural = chosen.encoding == AddressEncoding.SELF_RELATIVE ? 0 : names.numSymsWordSize();
            if (structural == other.ptrSize) chosen = other;
            else if (structural == 0) chosen = chooseWordSize(v, loc, chosen, other, votes);
        }
        if (chosen != null) {
            all.remove(chosen);
            all.add(0, chosen);
        }
        return all;
    }

    /** The table as {@code chosen} reads the addresses, with the base added where they need one. */
    private static KallsymsTable decode(KernelImage img, ByteView v, Located loc, AddressTable chosen, Hints known,
                                        byte[] types, String[] out, Map<AddressTable, BaseAddressVoter.Vote> votes)
            throws BaseUnknownException {
        NameTable names = loc.names();
        int n = names.count;
        long[] addresses = chosen.addresses;
        Long imageBase = null;
        String evidence = "absolute in kallsyms (" + chosen.encoding.description() + ")";
        if (chosen.needsBase()) {
            boolean selfRelative = chosen.encoding == AddressEncoding.SELF_RELATIVE;
            String what = selfRelative ? "self-relative offsets (7.0+)" : "offsets with kallsyms_relative_base left 0 for boot-time relocation";
            long delta;
            if (known.base() != null) {
                // --base is the address of the image's first byte; a zeroed relative_base is the
                // address of the first symbol, which relocatable images put at that first byte
                delta = known.base();
                evidence = what + " + base 0x" + Long.toHexString(delta) + " "
                        + (known.baseEvidence() != null ? known.baseEvidence() : "given by the user");
            } else if (selfRelative && known.tokenTableAddress() != null && loc.tokenTable() != null && img.elf() == null) {
                // a memory dump's VMCOREINFO says where kallsyms_token_table is: the file's offset 0 is that less its offset
                delta = known.tokenTableAddress() - loc.tokenTable().start();
                evidence = String.format("%s + base 0x%x from kallsyms_token_table at 0x%x (%s)", what, delta,
                        known.tokenTableAddress(), known.baseEvidence());
            } else if (selfRelative && img.elf() != null && img.addressOfOffset(chosen.start) != -1) {
                delta = img.addressOfOffset(chosen.start) - chosen.start;
                evidence = what + " placed by the ELF program headers";
            } else {
                BaseAddressVoter.Vote vote = vote(v, loc, chosen, votes);
                if (!decisive(vote)) {
                    throw new BaseUnknownException("kallsyms with " + what + " found, but the image does not"
                            + " say where it is loaded (pointer vote "
                            + (vote == null ? "empty" : vote.votes() + " vs " + vote.runnerUp())
                            + "): give the base address with --base");
                }
                delta = vote.base();
                evidence = String.format("%s + base 0x%x, voted by %d of %d pointer-like words (runner-up %d)",
                        what, delta, vote.votes(), vote.voters(), vote.runnerUp());
            }
            long[] abs = new long[n];
            for (int i = 0; i < n; i++) abs[i] = addresses[i] + delta;
            addresses = abs;
            // self-relative addresses were counted from file offset 0: delta is that offset's address
            if (selfRelative && img.elf() == null) imageBase = delta;
        }
        int bits = chosen.ptrSize * 8;
        if (bits == 32) {
            addresses = addresses.clone();
            for (int i = 0; i < n; i++) addresses[i] &= 0xffffffffL;
        }
        TokenTable tt = loc.tokenTable();
        KallsymsLayout layout = new KallsymsLayout(tt == null ? -1 : tt.start(), tt == null ? -1 : tt.indexStart(),
                names.start, names.end,
                names.markers.start(), names.markers.width(),
                names.numSyms.isEmpty() ? -1 : names.numSyms.get(0).position(),
                names.numSyms.isEmpty() ? 0 : names.numSyms.get(0).width(),
                chosen.start, chosen.width, chosen.encoding, chosen.relativeBasePos, loc.seqs(),
                names.uleb, chosen.afterTokenIndex);
        return new KallsymsTable(bits, loc.order(), addresses, types, out, layout, evidence, imageBase);
    }

    /**
     * Both pointer sizes gave a sorted table: the image's own pointers decide. A 64-bit kernel
     * whose addresses fit in 32 bits (s390x) reads the same either way, but then its pointers
     * fill whole 8-byte words.
     */
    private static AddressTable chooseWordSize(ByteView v, Located loc, AddressTable a8, AddressTable a4,
                                               Map<AddressTable, BaseAddressVoter.Vote> votes) {
        if (a8.needsBase() && a4.needsBase()) {
            // a decisive 64-bit vote settles it (most such kernels are 64-bit); else compare
            BaseAddressVoter.Vote v8 = vote(v, loc, a8, votes);
            if (decisive(v8)) return a8;
            BaseAddressVoter.Vote v4 = vote(v, loc, a4, votes);
            int s8 = v8 == null ? 0 : v8.votes(), s4 = v4 == null ? 0 : v4.votes();
            return s8 >= s4 ? a8 : a4;
        }
        boolean fit32 = true;
        for (long a : a8.addresses) {
            if ((a >>> 32) != 0) {
                fit32 = false;
                break;
            }
        }
        if (fit32 && Arrays.equals(a8.addresses, a4.addresses)) {
            return PointerEvidence.lowHalfShare(v, a8.addresses) >= 0.8 ? a8 : a4;
        }
        int c8 = PointerEvidence.count(v, a8.addresses, 8);
        int c4 = PointerEvidence.count(v, a4.addresses, 4);
        return c8 >= c4 ? a8 : a4;
    }

    private static BaseAddressVoter.Vote vote(ByteView v, Located loc, AddressTable a,
                                              Map<AddressTable, BaseAddressVoter.Vote> cache) {
        if (!cache.containsKey(a)) {
            cache.put(a, BaseAddressVoter.vote(v, a.addresses, a.ptrSize, tableFrom(loc, a), tableTo(loc, a)));
        }
        return cache.get(a);
    }

    /** The byte range all kallsyms arrays occupy (seqs_of_names after 6.4 included, roughly). */
    private static int tableFrom(Located loc, AddressTable a) {
        return Math.min(a.start, loc.names().start);
    }

    private static int tableTo(Located loc, AddressTable a) {
        return Math.max(a.end() + 8 + 4 * loc.names().count, loc.after());
    }

    private static boolean decisive(BaseAddressVoter.Vote vote) {
        return vote != null && vote.votes() >= 16 && vote.votes() >= 3 * vote.runnerUp();
    }

    private static void expandNames(ByteView v, byte[][] tokens, NameTable names, byte[] types, String[] out) {
        byte[] buf = new byte[4096];
        int pos = names.start;
        for (int i = 0; i < out.length; i++) {
            int len = v.u8(pos++);
            if (names.uleb && (len & 0x80) != 0) len = (len & 0x7f) | (v.u8(pos++) << 7);
            int o = 0;
            for (int k = 0; k < len; k++) {
                byte[] t = tokens[v.u8(pos + k)];
                if (o + t.length > buf.length) buf = Arrays.copyOf(buf, buf.length * 2 + t.length);
                System.arraycopy(t, 0, buf, o, t.length);
                o += t.length;
            }
            pos += len;
            types[i] = o > 0 ? buf[0] : (byte) '?';
            out[i] = o > 1 ? new String(buf, 1, o - 1, StandardCharsets.ISO_8859_1) : "";
        }
    }
}
