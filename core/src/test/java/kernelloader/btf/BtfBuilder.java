package kernelloader.btf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Writes BTF blobs type by type in either byte order, as pahole does: for kinds and layouts no
 * corpus kernel has (split BTF, signed ENUM64, a big-endian header), and for hostile variants.
 */
public final class BtfBuilder {
    private final ByteOrder order;
    private final ByteArrayOutputStream types = new ByteArrayOutputStream();
    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final Map<String, Integer> stringOffsets = new HashMap<>();
    private final int stringBase;
    private int nextId;

    public BtfBuilder(ByteOrder order) {
        this(order, 1, 0);
        strings.write(0);
        stringOffsets.put("", 0);
    }

    /** A split blob continuing a base of {@code baseTypes} types and {@code baseStringBytes} bytes of strings. */
    public BtfBuilder(ByteOrder order, int firstId, int baseStringBytes) {
        this.order = order;
        this.nextId = firstId;
        this.stringBase = baseStringBytes;
    }

    public int str(String s) {
        if (s.isEmpty() && stringBase == 0) return 0;
        if (s.isEmpty()) return 0;
        return stringOffsets.computeIfAbsent(s, k -> {
            int off = stringBase + strings.size();
            byte[] b = k.getBytes(StandardCharsets.UTF_8);
            strings.write(b, 0, b.length);
            strings.write(0);
            return off;
        });
    }

    private void u32(long v) {
        ByteBuffer b = ByteBuffer.allocate(4).order(order);
        b.putInt((int) v);
        types.write(b.array(), 0, 4);
    }

    /** One struct btf_type with its trailing words; returns its id. */
    public int type(BtfKind kind, String name, boolean kflag, int vlen, long sizeOrType, long... extra) {
        u32(str(name));
        u32(((long) (kflag ? 1 : 0) << 31) | ((long) kind.ordinal() << 24) | vlen);
        u32(sizeOrType);
        for (long e : extra) u32(e);
        return nextId++;
    }

    public int integer(String name, int size, int encoding, int bits) {
        return type(BtfKind.INT, name, false, 0, size, ((long) encoding << 24) | bits);
    }

    public int ref(BtfKind kind, String name, int target) { return type(kind, name, false, 0, target); }

    public int array(int elem, int index, long n) { return type(BtfKind.ARRAY, "", false, 0, 0, elem, index, n); }

    /** members: name, type, bit offset, bitfield size (0 = none); kind_flag set when any bitfield. */
    public int composite(BtfKind kind, String name, int size, Object... members) {
        boolean kflag = false;
        for (int i = 3; i < members.length; i += 4) kflag |= (Integer) members[i] != 0;
        long[] extra = new long[members.length / 4 * 3];
        for (int i = 0, j = 0; i < members.length; i += 4) {
            extra[j++] = str((String) members[i]);
            extra[j++] = (Integer) members[i + 1];
            long off = ((Number) members[i + 2]).longValue();
            extra[j++] = kflag ? ((long) (Integer) members[i + 3] << 24) | off : off;
        }
        return type(kind, name, kflag, members.length / 4, size, extra);
    }

    /** values: name, value pairs. */
    public int enumeration(String name, int size, boolean signed, Object... values) {
        long[] extra = new long[values.length];
        for (int i = 0; i < values.length; i += 2) {
            extra[i] = str((String) values[i]);
            extra[i + 1] = ((Number) values[i + 1]).longValue() & 0xffffffffL;
        }
        return type(BtfKind.ENUM, name, signed, values.length / 2, size, extra);
    }

    public int enumeration64(String name, boolean signed, Object... values) {
        long[] extra = new long[values.length / 2 * 3];
        for (int i = 0, j = 0; i < values.length; i += 2) {
            long v = ((Number) values[i + 1]).longValue();
            extra[j++] = str((String) values[i]);
            extra[j++] = v & 0xffffffffL;
            extra[j++] = v >>> 32;
        }
        return type(BtfKind.ENUM64, name, signed, values.length / 2, 8, extra);
    }

    /** params: name, type pairs; a last type of 0 is "...". */
    public int prototype(int ret, Object... params) {
        long[] extra = new long[params.length];
        for (int i = 0; i < params.length; i += 2) {
            extra[i] = str((String) params[i]);
            extra[i + 1] = (Integer) params[i + 1];
        }
        return type(BtfKind.FUNC_PROTO, "", false, params.length / 2, ret, extra);
    }

    public int function(String name, int proto, int linkage) { return type(BtfKind.FUNC, name, false, linkage, proto); }

    public int variable(String name, int type, int linkage) { return type(BtfKind.VAR, name, false, 0, type, linkage); }

    /** vars: type, offset, size triples. */
    public int datasec(String name, int size, long... vars) { return type(BtfKind.DATASEC, name, false, vars.length / 3, size, vars); }

    public int declTag(String name, int type, int component) { return type(BtfKind.DECL_TAG, name, false, 0, type, component & 0xffffffffL); }

    public int lastId() { return nextId - 1; }

    public int stringBytes() { return strings.size(); }

    /** Header (24 bytes), type section, string section. */
    public byte[] build() {
        byte[] t = types.toByteArray(), s = strings.toByteArray();
        ByteBuffer b = ByteBuffer.allocate(24 + t.length + s.length).order(order);
        b.putShort((short) 0xeb9f).put((byte) 1).put((byte) 0).putInt(24).putInt(0).putInt(t.length).putInt(t.length).putInt(s.length);
        b.put(t).put(s);
        return b.array();
    }

    /** A blob with every kind BTF has, the odd corners included (signed ENUM64, varargs, bit-fields, union FWD). */
    public static byte[] everyKind(ByteOrder order) {
        BtfBuilder b = new BtfBuilder(order);
        int u32 = b.integer("unsigned int", 4, 0, 32);
        int s32 = b.integer("int", 4, BtfType.IntEncoding.SIGNED, 32);
        int chr = b.integer("char", 1, BtfType.IntEncoding.CHAR, 8);
        int bool = b.integer("_Bool", 1, BtfType.IntEncoding.BOOL, 8);
        int lng = b.integer("long int", 8, BtfType.IntEncoding.SIGNED, 64);
        int dbl = b.type(BtfKind.FLOAT, "double", false, 0, 8);
        int cchr = b.ref(BtfKind.CONST, "", chr);
        int str = b.ref(BtfKind.PTR, "", cchr);
        int vol = b.ref(BtfKind.VOLATILE, "", s32);
        int tagged = b.ref(BtfKind.TYPE_TAG, "user", chr);
        int userPtr = b.ref(BtfKind.PTR, "", tagged);
        int restrictPtr = b.ref(BtfKind.RESTRICT, "", userPtr);
        int arr = b.array(chr, u32, 16);
        int flex = b.array(u32, u32, 0);
        int fwdStruct = b.type(BtfKind.FWD, "opaque", false, 0, 0);
        int fwdUnion = b.type(BtfKind.FWD, "opaque_u", true, 0, 0);
        int pOpaque = b.ref(BtfKind.PTR, "", fwdStruct);
        int pOpaqueU = b.ref(BtfKind.PTR, "", fwdUnion);
        int color = b.enumeration("color", 4, true, "RED", -1, "GREEN", 0, "BLUE", 7);
        int flags = b.enumeration("small_flags", 1, false, "F_A", 1, "F_B", 2);
        int big = b.enumeration64("big", false, "BIG_MAX", -1L, "BIG_ONE", 1);
        int neg = b.enumeration64("neg", true, "NEG_MIN", Long.MIN_VALUE, "NEG_ZERO", 0);
        int u32t = b.ref(BtfKind.TYPEDEF, "u32_t", u32);
        int node = b.composite(BtfKind.STRUCT, "node", 0);   // placeholder id for the self pointer below
        int pNode = b.ref(BtfKind.PTR, "", node + 0);
        int proto = b.prototype(s32, "a", s32, "fmt", str, "", 0);
        int pProto = b.ref(BtfKind.PTR, "", proto);
        int handler = b.ref(BtfKind.TYPEDEF, "handler_t", pProto);
        int anon = b.composite(BtfKind.UNION, "", 8, "l", lng, 0, 0, "d", dbl, 0, 0);
        int rec = b.composite(BtfKind.STRUCT, "record", 72,
                "flag", bool, 0, 1, "kind", u32, 1, 3, "mode", s32, 4, 4,
                "name", arr, 8 * 8, 0, "next", pNode, 24 * 8, 0, "", anon, 32 * 8, 0,
                "fn", handler, 40 * 8, 0, "v", vol, 48 * 8, 0, "c", color, 52 * 8, 0,
                "f", flags, 56 * 8, 0, "user", restrictPtr, 64 * 8, 0, "tail", flex, 72 * 8, 0);
        int pRec = b.ref(BtfKind.PTR, "", rec);
        int fproto = b.prototype(pRec, "r", pRec, "o", pOpaque, "u", pOpaqueU, "b", big, "n", neg, "t", u32t);
        int fn = b.function("make_record", fproto, BtfType.LINKAGE_GLOBAL);
        int var = b.variable("records", rec, BtfType.LINKAGE_GLOBAL);
        b.datasec(".data", 72, var, 0, 72);
        b.declTag("bpf_fastcall", fn, -1);
        b.declTag("nonnull", fn, 0);
        return b.build();
    }

}
