package kernelloader.isf;

import java.io.IOException;
import java.io.Writer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.stream.JsonWriter;

import kernelloader.btf.Btf;
import kernelloader.btf.BtfKind;
import kernelloader.btf.BtfType;
import kernelloader.kallsyms.KallsymsTable;

/**
 * A Volatility 3 symbol table (the Intermediate Symbol Format, ISF 6.2, JSON) made from the
 * kernel's own BTF and kallsyms, for a kernel no debug vmlinux exists for (Volatility's own path
 * is dwarf2json over one). The choices are dwarf2json's, so Volatility reads it alike:
 * <ul>
 * <li>base_types: each BTF INT and FLOAT by name, with "void" and "pointer";</li>
 * <li>user_types: each STRUCT and UNION by name (anonymous ones as unnamed_btf_ID), fields at
 *     byte offsets, bitfields as {bitfield, bit_position, bit_length} from the byte offset of
 *     their storage unit, anonymous members as unnamed_field_OFFSET marked anonymous;</li>
 * <li>enums: with the base type of their size and signedness;</li>
 * <li>type references with typedefs and qualifiers followed through, as dwarf2json does;</li>
 * <li>symbols: every kallsyms name (a global one before a static one of the same name), typed
 *     where BTF types it (per-cpu variables) or {@link KnownVariables} does; linux_banner with
 *     its bytes as constant_data, which is how Volatility matches a table to a memory image.</li>
 * </ul>
 * Addresses are written less {@code slide}: link-time addresses for a dump whose slide is known,
 * as for the kernel file (Volatility finds each dump's shift itself, from init_task).
 */
public final class IsfWriter {
    /** The ISF version written: Volatility 3 reads 6.x. */
    public static final String FORMAT = "6.2.0";
    private static final int MAX_DEPTH = 64;

    /** What the table holds. */
    public record Summary(int baseTypes, int userTypes, int enums, int symbols, int typedSymbols, int duplicateNames) {}

    /** A file the table was made from, for the metadata: its name and sha256. */
    public record Source(String name, String sha256) {}

    private final Btf btf;
    private final KallsymsTable table;
    private final long slide;
    private final long text;
    private final byte[] banner;
    private final int pointerSize;
    private final String endian;
    private final Source symbolsFrom;
    private final Source typesFrom;
    private final String producerVersion;

    /** composite and enum type ids by the name written for them (first definition of a name wins) */
    private final Map<Integer, String> names = new HashMap<>();
    private final Map<String, Integer> composites = new TreeMap<>();
    private final Map<String, Integer> enums = new TreeMap<>();
    private final Map<String, BtfType> bases = new TreeMap<>();
    private int duplicates;

    /**
     * @param banner  linux_banner's bytes in the image, its NUL included (null: none)
     * @param slide   subtracted from every address at or above _text (0 for a kernel file)
     */
    public IsfWriter(Btf btf, KallsymsTable table, long slide, byte[] banner, Source symbolsFrom, Source typesFrom,
                     String producerVersion) {
        this.btf = btf;
        this.table = table;
        this.slide = slide;
        Long t = table.addressOf("_text");
        this.text = t == null ? 0 : t;
        this.banner = banner;
        this.pointerSize = table.bits() / 8;
        this.endian = btf.order() == ByteOrder.BIG_ENDIAN ? "big" : "little";
        this.symbolsFrom = symbolsFrom;
        this.typesFrom = typesFrom;
        this.producerVersion = producerVersion;
        index();
    }

    private void index() {
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (t.kind().isComposite()) {
                String n = t.anonymous() ? "unnamed_btf_" + id : t.name();
                if (composites.putIfAbsent(n, id) != null) duplicates++;
                names.put(id, n);
            } else if (t.kind().isEnum()) {
                String n = t.anonymous() ? "unnamed_btf_" + id : t.name();
                if (enums.putIfAbsent(n, id) != null) duplicates++;
                names.put(id, n);
            } else if ((t.kind() == BtfKind.INT || t.kind() == BtfKind.FLOAT) && !t.anonymous()) {
                bases.putIfAbsent(t.name(), t);
            }
        }
        // each enum's base type, chosen before the base types are written (some may need one made)
        for (int id : enums.values()) {
            BtfType t = btf.type(id);
            boolean signed = t.signedEnum();
            for (BtfType.EnumValue v : t.values()) signed |= v.value() < 0 && t.kind() == BtfKind.ENUM;
            enumBaseOf.put(id, enumBase(t.size(), signed));
        }
    }

    private final Map<Integer, String> enumBaseOf = new HashMap<>();

    /** The name a composite or enum type is written under (a later one of the same name: the first's). */
    String nameOf(int id) {
        String n = names.get(id);
        if (n == null) return null;
        Map<String, Integer> m = btf.type(id).kind().isEnum() ? enums : composites;
        return m.containsKey(n) ? n : null;
    }

    public Summary write(Writer out) throws IOException {
        JsonWriter w = new JsonWriter(out);
        w.setIndent("");
        w.beginObject();
        metadata(w);
        int nBases = baseTypes(w);
        int nUser = userTypes(w);
        int nEnums = enumTypes(w);
        int[] sym = symbols(w);
        w.endObject();
        w.flush();
        return new Summary(nBases, nUser, nEnums, sym[0], sym[1], duplicates);
    }

    private void metadata(JsonWriter w) throws IOException {
        w.name("metadata").beginObject();
        w.name("format").value(FORMAT);
        w.name("producer").beginObject()
                .name("name").value("linux-kernel-loader")
                .name("version").value(producerVersion)
                .name("datetime").value(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString())
                .endObject();
        w.name("linux").beginObject();
        // the schema names ELF symbol tables "symtab"; kallsyms is the kernel's own symbol table
        w.name("symbols").beginArray();
        source(w, symbolsFrom, "symtab");
        w.endArray();
        w.name("types").beginArray();
        source(w, typesFrom, null);
        w.endArray();
        w.endObject();
        w.endObject();
    }

    private static void source(JsonWriter w, Source s, String kind) throws IOException {
        if (s == null) return;
        w.beginObject();
        if (kind != null) w.name("kind").value(kind);
        w.name("name").value(s.name());
        if (s.sha256() != null) w.name("hash_type").value("sha256").name("hash_value").value(s.sha256());
        w.endObject();
    }

    private int baseTypes(JsonWriter w) throws IOException {
        w.name("base_types").beginObject();
        w.name("void").beginObject().name("size").value(0).name("signed").value(false).name("kind").value("void")
                .name("endian").value(endian).endObject();
        w.name("pointer").beginObject().name("size").value(pointerSize).name("signed").value(false).name("kind").value("int")
                .name("endian").value(endian).endObject();
        int n = 2;
        for (BtfType t : bases.values()) {
            if (t.name().equals("void") || t.name().equals("pointer")) continue;
            String kind;
            boolean signed;
            if (t.kind() == BtfKind.FLOAT) {
                kind = "float";
                signed = true;
            } else {
                int e = t.intEncoding().encoding();
                kind = (e & BtfType.IntEncoding.BOOL) != 0 ? "bool"
                        : (e & BtfType.IntEncoding.CHAR) != 0 || (t.size() == 1 && t.name().contains("char")) ? "char" : "int";
                signed = t.intEncoding().signed();
            }
            w.name(t.name()).beginObject().name("size").value(t.size()).name("signed").value(signed).name("kind").value(kind)
                    .name("endian").value(endian).endObject();
            n++;
        }
        for (String extra : enumBases.values()) {
            String[] p = extra.split(":");
            w.name(p[0]).beginObject().name("size").value(Long.parseLong(p[1])).name("signed").value(p[2].equals("s"))
                    .name("kind").value("int").name("endian").value(endian).endObject();
            n++;
        }
        w.endObject();
        return n;
    }

    /** Base types enums need that the BTF has no INT of (name:size:s|u), made before the base types are written. */
    private final Map<String, String> enumBases = new LinkedHashMap<>();

    /** The base type of an enum: the first INT by name of its size and signedness, as dwarf2json picks. */
    private String enumBase(long size, boolean signed) {
        for (BtfType t : bases.values()) {
            if (t.kind() == BtfKind.INT && t.size() == size && t.intEncoding().signed() == signed
                    && (t.intEncoding().encoding() & (BtfType.IntEncoding.BOOL | BtfType.IntEncoding.CHAR)) == 0
                    && !t.name().contains("char")) {
                return t.name();
            }
        }
        String key = size + (signed ? "s" : "u");
        String name = (signed ? "__enum_s" : "__enum_u") + size * 8;
        enumBases.putIfAbsent(key, name + ":" + size + ":" + (signed ? "s" : "u"));
        return name;
    }

    private int userTypes(JsonWriter w) throws IOException {
        w.name("user_types").beginObject();
        for (Map.Entry<String, Integer> e : composites.entrySet()) {
            BtfType t = btf.type(e.getValue());
            w.name(e.getKey()).beginObject();
            w.name("kind").value(t.kind() == BtfKind.UNION ? "union" : "struct");
            w.name("size").value(t.size());
            w.name("fields").beginObject();
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (BtfType.Member m : t.members()) field(w, t, m, seen);
            w.endObject();
            w.endObject();
        }
        w.endObject();
        return composites.size();
    }

    private void field(JsonWriter w, BtfType owner, BtfType.Member m, java.util.Set<String> seen) throws IOException {
        int resolved = btf.resolve(m.type());
        BtfType rt = btf.type(resolved);
        long bitOffset = m.bitOffset();
        int bits = m.bitfieldSize();
        if (!owner.kindFlag() && rt != null && rt.kind() == BtfKind.INT && rt.intEncoding().bits() > 0
                && rt.intEncoding().bits() != rt.size() * 8) {
            // BTF before kind_flag: the INT itself is the bitfield
            bits = rt.intEncoding().bits();
            bitOffset += rt.intEncoding().bitOffset();
        }
        String name = m.name();
        boolean anonymous = name.isEmpty();
        if (anonymous) name = "unnamed_field_" + Long.toHexString(bitOffset / 8);
        if (!seen.add(name)) return;
        w.name(name).beginObject();
        if (bits > 0) {
            long size = Math.max(1, btf.sizeOf(m.type(), pointerSize));
            long unit = size * 8;
            long start = (bitOffset / unit) * size;
            long pos = bitOffset - start * 8;
            if (pos + bits > unit) {
                start = bitOffset / 8;
                pos = bitOffset % 8;
            }
            // Volatility reads the storage unit as an integer and shifts by bit_position from its
            // least significant bit; BTF counts bits in memory order, from the most significant on big-endian
            if (endian.equals("big")) pos = unit - pos - bits;
            w.name("type").beginObject().name("kind").value("bitfield").name("bit_position").value(pos)
                    .name("bit_length").value(bits).name("type");
            descriptor(w, m.type(), 0);
            w.endObject();
            w.name("offset").value(start);
        } else {
            w.name("type");
            descriptor(w, m.type(), 0);
            w.name("offset").value(bitOffset / 8);
        }
        if (anonymous) w.name("anonymous").value(true);
        w.endObject();
    }

    private int enumTypes(JsonWriter w) throws IOException {
        w.name("enums").beginObject();
        for (Map.Entry<String, Integer> e : enums.entrySet()) {
            BtfType t = btf.type(e.getValue());
            w.name(e.getKey()).beginObject();
            w.name("size").value(t.size());
            w.name("base").value(enumBaseOf.get(e.getValue()));
            w.name("constants").beginObject();
            for (BtfType.EnumValue v : t.values()) w.name(v.name()).value(v.value());
            w.endObject();
            w.endObject();
        }
        w.endObject();
        return enums.size();
    }

    /** The type descriptor of BTF type {@code id}, typedefs and qualifiers followed through. */
    private void descriptor(JsonWriter w, int id, int depth) throws IOException {
        BtfType t = btf.type(btf.resolve(id));
        if (t == null || depth > MAX_DEPTH) {
            base(w, "void");
            return;
        }
        switch (t.kind()) {
            case INT, FLOAT -> base(w, t.anonymous() ? "void" : t.name());
            case PTR -> {
                w.beginObject().name("kind").value("pointer").name("subtype");
                descriptor(w, t.type(), depth + 1);
                w.endObject();
            }
            case ARRAY -> {
                w.beginObject().name("kind").value("array").name("count").value(t.array().elements()).name("subtype");
                descriptor(w, t.type(), depth + 1);
                w.endObject();
            }
            case STRUCT, UNION -> {
                String n = nameOf(t.id());
                w.beginObject().name("kind").value(t.kind() == BtfKind.UNION ? "union" : "struct").name("name").value(n).endObject();
            }
            case FWD -> {
                // a declaration: the definition of that name, where the BTF has one
                w.beginObject().name("kind").value(t.forwardUnion() ? "union" : "struct").name("name").value(t.name()).endObject();
            }
            case ENUM, ENUM64 -> w.beginObject().name("kind").value("enum").name("name").value(nameOf(t.id())).endObject();
            case FUNC_PROTO, FUNC -> w.beginObject().name("kind").value("function").endObject();
            default -> base(w, "void");
        }
    }

    private static void base(JsonWriter w, String name) throws IOException {
        w.beginObject().name("kind").value("base").name("name").value(name).endObject();
    }

    private int[] symbols(JsonWriter w) throws IOException {
        // per-cpu variables are the VARs BTF has
        Map<String, Integer> vars = new HashMap<>();
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (t.kind() == BtfKind.VAR && !t.anonymous()) vars.putIfAbsent(t.name(), t.type());
        }
        // one address per name: a global symbol's before a static one's
        Map<String, Integer> chosen = new LinkedHashMap<>();
        for (int i = 0; i < table.size(); i++) {
            String n = table.name(i);
            Integer had = chosen.get(n);
            if (had == null || (Character.isLowerCase(table.type(had)) && Character.isUpperCase(table.type(i)))) chosen.put(n, i);
        }
        int typed = 0;
        w.name("symbols").beginObject();
        List<String> sorted = new ArrayList<>(chosen.keySet());
        java.util.Collections.sort(sorted);
        for (String n : sorted) {
            int i = chosen.get(n);
            long a = table.address(i);
            if (Long.compareUnsigned(a, text) >= 0) a -= slide;
            w.name(n).beginObject().name("address").value(unsigned(a));
            if (n.equals("linux_banner") && banner != null) {
                w.name("type").beginObject().name("kind").value("array").name("count").value(banner.length).name("subtype");
                base(w, "char");
                w.endObject();
                w.name("constant_data").value(Base64.getEncoder().encodeToString(banner));
                typed++;
            } else if (vars.containsKey(n)) {
                w.name("type");
                descriptor(w, vars.get(n), 0);
                typed++;
            } else if (known(w, n)) {
                typed++;
            }
            w.endObject();
        }
        w.endObject();
        return new int[] {sorted.size(), typed};
    }

    /** Writes the type of a variable {@link KnownVariables} declares, where the BTF has that type; false if not. */
    private boolean known(JsonWriter w, String name) throws IOException {
        KnownVariables.Declared d = KnownVariables.TYPES.get(name);
        if (d == null) return false;
        boolean exists = d.kind().equals("struct") ? composites.containsKey(d.name()) : d.name().equals("void") || bases.containsKey(d.name());
        if (!exists) return false;
        w.name("type");
        int open = 0;
        if (d.count() >= 0) {
            w.beginObject().name("kind").value("array").name("count").value(d.count()).name("subtype");
            open++;
        }
        for (int p = 0; p < d.pointers(); p++) {
            w.beginObject().name("kind").value("pointer").name("subtype");
            open++;
        }
        if (d.kind().equals("struct")) {
            BtfType t = btf.type(composites.get(d.name()));
            w.beginObject().name("kind").value(t.kind() == BtfKind.UNION ? "union" : "struct").name("name").value(d.name()).endObject();
        } else {
            base(w, d.name());
        }
        for (int i = 0; i < open; i++) w.endObject();
        return true;
    }

    /** JSON numbers for addresses: unsigned 64-bit, as Volatility's Python ints are. */
    private static Number unsigned(long a) {
        return a >= 0 ? (Number) a : new java.math.BigInteger(Long.toUnsignedString(a));
    }
}
