package kernelloader.btf;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/**
 * A parsed BTF blob: every type of its type section, numbered from 1 (0 is void), with names
 * from its string section. Split BTF (a module's, over vmlinux's) continues its base's type
 * numbers and string offsets, as libbpf's btf__parse_split does.
 */
public final class Btf {
    /** BTF_MAX_TYPE: type ids are 20 bits wide wherever the format packs them. */
    public static final int MAX_TYPES = 0xfffff;
    /** Nothing in C nests this deep; a longer chain of typedefs and qualifiers is a loop. */
    private static final int MAX_CHAIN = 64;

    private final BtfHeader header;
    private final Btf base;
    private final int firstId;
    private final List<BtfType> types;
    private final Strings strings;
    private Map<String, List<BtfType>> byName;

    private Btf(BtfHeader header, Btf base, int firstId, List<BtfType> types, Strings strings) {
        this.header = header;
        this.base = base;
        this.firstId = firstId;
        this.types = types;
        this.strings = strings;
    }

    /** Parses the BTF blob whose header is at {@code pos}, in at most {@code available} bytes. */
    public static Btf parse(byte[] data, int length, int pos, long available) throws KernelFormatException {
        return parse(data, length, pos, available, null);
    }

    /** As above; with a {@code base}, the blob is split BTF continuing it. */
    public static Btf parse(byte[] data, int length, int pos, long available, Btf base) throws KernelFormatException {
        BtfHeader h = BtfHeader.read(data, length, pos, available);
        if (base != null && base.header.order() != h.order()) {
            throw new KernelFormatException("split BTF and its base differ in byte order");
        }
        int firstId = base == null ? 1 : base.lastId() + 1;
        Strings strings = new Strings(data, pos + h.headerLength() + h.stringOffset(), h.stringLength(), base);
        TypeSection section = new TypeSection(new ByteView(data, length, h.order()), pos + h.headerLength() + h.typeOffset(),
                h.typeLength(), strings, firstId);
        List<BtfType> types = section.readAll();
        Btf btf = new Btf(h, base, firstId, Collections.unmodifiableList(types), strings);
        btf.checkReferences();
        return btf;
    }

    public BtfHeader header() { return header; }
    public ByteOrder order() { return header.order(); }
    public Btf base() { return base; }
    /** The blob's size in bytes, header included. */
    public int byteSize() { return header.totalLength(); }
    public int firstId() { return firstId; }
    public int lastId() { return firstId + types.size() - 1; }
    /** This blob's own types, in id order (a split blob's, without its base's). */
    public List<BtfType> types() { return types; }

    /** The type numbered {@code id}, from this blob or its base; null for 0 (void) or out of range. */
    public BtfType type(int id) {
        if (id >= firstId && id <= lastId()) return types.get(id - firstId);
        return base != null ? base.type(id) : null;
    }

    /** Every type named {@code name}, of any kind, this blob's and its base's. */
    public List<BtfType> named(String name) {
        if (byName == null) {
            Map<String, List<BtfType>> m = new HashMap<>();
            for (int id = 1; id <= lastId(); id++) {
                BtfType t = type(id);
                if (!t.anonymous()) m.computeIfAbsent(t.name(), k -> new ArrayList<>(1)).add(t);
            }
            byName = m;
        }
        return byName.getOrDefault(name, List.of());
    }

    /** The first type named {@code name} of {@code kind}, or null. */
    public BtfType named(String name, BtfKind kind) {
        for (BtfType t : named(name)) if (t.kind() == kind) return t;
        return null;
    }

    /** {@code id} with typedefs and qualifiers followed through; 0 for void. */
    public int resolve(int id) {
        for (int i = 0; i < MAX_CHAIN; i++) {
            BtfType t = type(id);
            if (t == null || !t.kind().isModifier()) return id;
            id = t.type();
        }
        return 0;
    }

    /** {@code id} with qualifiers (const, volatile, restrict, type tags) followed through, typedefs kept. */
    public int skipQualifiers(int id) {
        for (int i = 0; i < MAX_CHAIN; i++) {
            BtfType t = type(id);
            if (t == null) return id;
            switch (t.kind()) {
                case CONST: case VOLATILE: case RESTRICT: case TYPE_TAG: id = t.type(); break;
                default: return id;
            }
        }
        return id;
    }

    /** The size in bytes of a value of type {@code id} (pointers: {@code pointerSize}); 0 if it has none. */
    public long sizeOf(int id, int pointerSize) {
        return sizeOf(id, pointerSize, 0);
    }

    /** Arrays of arrays recurse; a hostile array of itself ends at the depth limit. */
    private long sizeOf(int id, int pointerSize, int depth) {
        BtfType t = type(resolve(id));
        if (t == null || depth > MAX_CHAIN) return 0;
        switch (t.kind()) {
            case PTR: return pointerSize;
            case ARRAY: return sizeOf(t.type(), pointerSize, depth + 1) * t.array().elements();
            case INT: case ENUM: case ENUM64: case STRUCT: case UNION: case FLOAT: case DATASEC: return t.size();
            default: return 0;
        }
    }

    /** Counts of this blob's types per kind, in kind order. */
    public Map<BtfKind, Integer> kindCounts() {
        Map<BtfKind, Integer> m = new EnumMap<>(BtfKind.class);
        for (BtfType t : types) m.merge(t.kind(), 1, Integer::sum);
        return m;
    }

    /** Every type id a type names must exist: a dangling one would send readers out of the table. */
    private void checkReferences() throws KernelFormatException {
        int last = lastId();
        for (BtfType t : types) {
            check(t, t.type(), last);
            if (t.array() != null) check(t, t.array().indexType(), last);
            for (BtfType.Member m : t.members()) check(t, m.type(), last);
            for (BtfType.Param p : t.params()) check(t, p.type(), last);
            for (BtfType.VarSecInfo v : t.vars()) check(t, v.type(), last);
        }
    }

    private static void check(BtfType t, int ref, int last) throws KernelFormatException {
        if (ref < 0 || ref > last) {
            throw new KernelFormatException("BTF type " + t.id() + " (" + t.kind() + ") refers to type " + (ref & 0xffffffffL)
                    + ", beyond the last (" + last + ")");
        }
    }

    /** The string section: names by offset, continuing the base's offsets for split BTF. */
    private static final class Strings {
        private final byte[] data;
        private final int start;
        private final int length;
        private final int baseLength;
        private final Btf base;
        private final Map<Integer, String> cache = new HashMap<>();

        Strings(byte[] data, int start, int length, Btf base) {
            this.data = data;
            this.start = start;
            this.length = length;
            this.base = base;
            this.baseLength = base == null ? 0 : base.header.stringLength() + base.strings().baseLength;
        }

        String at(long off, int typeId) throws KernelFormatException {
            if (off < baseLength) return base.strings().at(off, typeId);
            long rel = off - baseLength;
            if (rel >= length) {
                throw new KernelFormatException("BTF type " + typeId + " names string offset " + off + ", past the string section ("
                        + (baseLength + length) + " bytes)");
            }
            String s = cache.get((int) rel);
            if (s == null) {
                int p = start + (int) rel, end = p;
                while (data[end] != 0) end++;   // the section ends with a NUL (checked by BtfHeader)
                s = new String(data, p, end - p, StandardCharsets.UTF_8);
                cache.put((int) rel, s);
            }
            return s;
        }
    }

    private Strings strings() { return strings; }

    /** Reads struct btf_type records one after another, each with what its kind appends. */
    private static final class TypeSection {
        private final ByteView v;
        private final int start;
        private final int end;
        private final Strings strings;
        private final int firstId;

        TypeSection(ByteView v, int start, int length, Strings strings, int firstId) {
            this.v = v;
            this.start = start;
            this.end = start + length;
            this.strings = strings;
            this.firstId = firstId;
        }

        List<BtfType> readAll() throws KernelFormatException {
            List<BtfType> out = new ArrayList<>();
            int p = start;
            while (p < end) {
                int id = firstId + out.size();
                if (id > MAX_TYPES) throw new KernelFormatException("BTF holds more than " + MAX_TYPES + " types");
                need(p, 12, id);
                long info = v.u32(p + 4);
                int kindNo = (int) ((info >>> 24) & 0x1f);
                BtfKind kind = BtfKind.of(kindNo);
                if (kind == null) throw new KernelFormatException("BTF type " + id + " has unknown kind " + kindNo + " (at 0x" + Integer.toHexString(p) + ")");
                String name = strings.at(v.u32(p), id);
                boolean kflag = (info >>> 31) != 0;
                int vlen = (int) (info & 0xffff);
                long sizeOrType = v.u32(p + 8);
                p += 12;
                long size = 0;
                int type = 0;
                BtfType.IntEncoding enc = null;
                BtfType.ArrayInfo arr = null;
                List<BtfType.Member> members = List.of();
                List<BtfType.EnumValue> values = List.of();
                List<BtfType.Param> params = List.of();
                List<BtfType.VarSecInfo> vars = List.of();
                int linkage = 0, component = 0;
                switch (kind) {
                    case INT: {
                        need(p, 4, id);
                        long w = v.u32(p);
                        p += 4;
                        size = sizeOrType;
                        enc = new BtfType.IntEncoding((int) ((w >>> 24) & 0x0f), (int) ((w >>> 16) & 0xff), (int) (w & 0xff));
                        break;
                    }
                    case PTR: case TYPEDEF: case VOLATILE: case CONST: case RESTRICT: case TYPE_TAG:
                        type = typeId(sizeOrType, id);
                        break;
                    case FWD:
                        break;
                    case FUNC:
                        type = typeId(sizeOrType, id);
                        linkage = vlen;
                        break;
                    case FLOAT:
                        size = sizeOrType;
                        break;
                    case ARRAY: {
                        need(p, 12, id);
                        type = typeId(v.u32(p), id);
                        arr = new BtfType.ArrayInfo(typeId(v.u32(p + 4), id), v.u32(p + 8));
                        p += 12;
                        break;
                    }
                    case STRUCT: case UNION: {
                        need(p, 12L * vlen, id);
                        size = sizeOrType;
                        BtfType.Member[] ms = new BtfType.Member[vlen];
                        for (int i = 0; i < vlen; i++, p += 12) {
                            long off = v.u32(p + 8);
                            long bitOff = kflag ? off & 0xffffff : off;
                            int bits = kflag ? (int) (off >>> 24) : 0;
                            ms[i] = new BtfType.Member(strings.at(v.u32(p), id), typeId(v.u32(p + 4), id), bitOff, bits);
                        }
                        members = List.of(ms);
                        break;
                    }
                    case ENUM: {
                        need(p, 8L * vlen, id);
                        size = sizeOrType;
                        BtfType.EnumValue[] vs = new BtfType.EnumValue[vlen];
                        for (int i = 0; i < vlen; i++, p += 8) {
                            long raw = kflag ? v.s32(p + 4) : v.u32(p + 4);
                            vs[i] = new BtfType.EnumValue(strings.at(v.u32(p), id), raw);
                        }
                        values = List.of(vs);
                        break;
                    }
                    case ENUM64: {
                        need(p, 12L * vlen, id);
                        size = sizeOrType;
                        BtfType.EnumValue[] vs = new BtfType.EnumValue[vlen];
                        for (int i = 0; i < vlen; i++, p += 12) {
                            long val = (v.u32(p + 8) << 32) | v.u32(p + 4);
                            vs[i] = new BtfType.EnumValue(strings.at(v.u32(p), id), val);
                        }
                        values = List.of(vs);
                        break;
                    }
                    case FUNC_PROTO: {
                        need(p, 8L * vlen, id);
                        type = typeId(sizeOrType, id);
                        BtfType.Param[] ps = new BtfType.Param[vlen];
                        for (int i = 0; i < vlen; i++, p += 8) {
                            ps[i] = new BtfType.Param(strings.at(v.u32(p), id), typeId(v.u32(p + 4), id));
                        }
                        params = List.of(ps);
                        break;
                    }
                    case VAR: {
                        need(p, 4, id);
                        type = typeId(sizeOrType, id);
                        linkage = v.s32(p);
                        p += 4;
                        break;
                    }
                    case DATASEC: {
                        need(p, 12L * vlen, id);
                        size = sizeOrType;
                        BtfType.VarSecInfo[] vs = new BtfType.VarSecInfo[vlen];
                        for (int i = 0; i < vlen; i++, p += 12) {
                            vs[i] = new BtfType.VarSecInfo(typeId(v.u32(p), id), v.u32(p + 4), v.u32(p + 8));
                        }
                        vars = List.of(vs);
                        break;
                    }
                    case DECL_TAG: {
                        need(p, 4, id);
                        type = typeId(sizeOrType, id);
                        component = v.s32(p);
                        p += 4;
                        break;
                    }
                    default:
                        throw new KernelFormatException("BTF type " + id + " has kind " + kind + ", which never appears in a type section");
                }
                out.add(new BtfType(id, kind, name, kflag, vlen, size, type, enc, arr, members, values, params, vars, linkage, component));
            }
            return out;
        }

        private void need(int p, long n, int id) throws KernelFormatException {
            if (p + n > end) throw new KernelFormatException("BTF type " + id + " runs past the end of the type section");
        }

        private static int typeId(long raw, int id) throws KernelFormatException {
            if (raw > MAX_TYPES) throw new KernelFormatException("BTF type " + id + " refers to type " + raw + ", beyond BTF's limit");
            return (int) raw;
        }
    }
}
