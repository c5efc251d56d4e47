package kernelloader.btf;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;

import com.google.gson.stream.JsonWriter;

/**
 * Every type of a BTF blob, one after another, in the two forms `bpftool btf dump file F`
 * prints them: its raw text ("[id] KIND 'name' ..." with indented members) and, with -j, its
 * JSON ({"types":[...]}, the same fields). Matching bpftool line for line lets a user diff the
 * two, and lets the tests hold ours against Debian's bpftool on the corpus.
 */
public final class BtfRawDump {
    private BtfRawDump() {}

    /** bpftool's raw text, one type (with its members) after another. */
    public static void text(Btf btf, Writer out) throws IOException {
        StringBuilder sb = new StringBuilder(256);
        for (BtfType t : btf.types()) {
            sb.setLength(0);
            sb.append('[').append(t.id()).append("] ").append(t.kind().name()).append(" '").append(name(t.name())).append('\'');
            switch (t.kind()) {
                case INT:
                    sb.append(" size=").append(t.size()).append(" bits_offset=").append(t.intEncoding().bitOffset())
                      .append(" nr_bits=").append(t.intEncoding().bits()).append(" encoding=").append(intEncoding(t.intEncoding().encoding()));
                    break;
                case PTR: case CONST: case VOLATILE: case RESTRICT: case TYPEDEF: case TYPE_TAG:
                    sb.append(" type_id=").append(t.type());
                    break;
                case ARRAY:
                    sb.append(" type_id=").append(t.type()).append(" index_type_id=").append(t.array().indexType())
                      .append(" nr_elems=").append(t.array().elements());
                    break;
                case STRUCT: case UNION:
                    sb.append(" size=").append(t.size()).append(" vlen=").append(t.vlen());
                    for (BtfType.Member m : t.members()) {
                        sb.append("\n\t'").append(name(m.name())).append("' type_id=").append(m.type()).append(" bits_offset=").append(m.bitOffset());
                        if (m.bitfieldSize() != 0) sb.append(" bitfield_size=").append(m.bitfieldSize());
                    }
                    break;
                case ENUM: case ENUM64:
                    sb.append(" encoding=").append(t.signedEnum() ? "SIGNED" : "UNSIGNED").append(" size=").append(t.size()).append(" vlen=").append(t.vlen());
                    for (BtfType.EnumValue v : t.values()) {
                        sb.append("\n\t'").append(name(v.name())).append("' val=").append(enumValue(t, v.value()));
                        if (t.kind() == BtfKind.ENUM64) sb.append(t.signedEnum() ? "LL" : "ULL");
                    }
                    break;
                case FWD:
                    sb.append(" fwd_kind=").append(t.forwardUnion() ? "union" : "struct");
                    break;
                case FUNC:
                    sb.append(" type_id=").append(t.type()).append(" linkage=").append(linkage(t.linkage()));
                    break;
                case FUNC_PROTO:
                    sb.append(" ret_type_id=").append(t.type()).append(" vlen=").append(t.vlen());
                    for (BtfType.Param p : t.params()) sb.append("\n\t'").append(name(p.name())).append("' type_id=").append(p.type());
                    break;
                case VAR:
                    sb.append(" type_id=").append(t.type()).append(", linkage=").append(linkage(t.linkage()));
                    break;
                case DATASEC:
                    sb.append(" size=").append(t.size()).append(" vlen=").append(t.vlen());
                    for (BtfType.VarSecInfo v : t.vars()) {
                        sb.append("\n\ttype_id=").append(v.type()).append(" offset=").append(v.offset()).append(" size=").append(v.size());
                        BtfType var = btf.type(v.type());
                        if (var != null) sb.append(" (").append(var.kind().name()).append(" '").append(name(var.name())).append("')");
                    }
                    break;
                case FLOAT:
                    sb.append(" size=").append(t.size());
                    break;
                case DECL_TAG:
                    sb.append(" type_id=").append(t.type()).append(" component_idx=").append(t.componentIndex());
                    break;
                default:
                    break;
            }
            sb.append('\n');
            out.write(sb.toString());
        }
    }

    /** bpftool -j's JSON: {"types":[{"id":..,"kind":..,"name":..,...},...]}. */
    public static void json(Btf btf, Writer out) throws IOException {
        JsonWriter w = new JsonWriter(out);
        w.beginObject().name("types").beginArray();
        for (BtfType t : btf.types()) {
            w.beginObject().name("id").value(t.id()).name("kind").value(t.kind().name()).name("name").value(name(t.name()));
            switch (t.kind()) {
                case INT:
                    w.name("size").value(t.size()).name("bits_offset").value(t.intEncoding().bitOffset())
                     .name("nr_bits").value(t.intEncoding().bits()).name("encoding").value(intEncoding(t.intEncoding().encoding()));
                    break;
                case PTR: case CONST: case VOLATILE: case RESTRICT: case TYPEDEF: case TYPE_TAG:
                    w.name("type_id").value(t.type());
                    break;
                case ARRAY:
                    w.name("type_id").value(t.type()).name("index_type_id").value(t.array().indexType()).name("nr_elems").value(t.array().elements());
                    break;
                case STRUCT: case UNION:
                    w.name("size").value(t.size()).name("vlen").value(t.vlen()).name("members").beginArray();
                    for (BtfType.Member m : t.members()) {
                        w.beginObject().name("name").value(name(m.name())).name("type_id").value(m.type()).name("bits_offset").value(m.bitOffset());
                        if (m.bitfieldSize() != 0) w.name("bitfield_size").value(m.bitfieldSize());
                        w.endObject();
                    }
                    w.endArray();
                    break;
                case ENUM: case ENUM64:
                    w.name("encoding").value(t.signedEnum() ? "SIGNED" : "UNSIGNED").name("size").value(t.size()).name("vlen").value(t.vlen())
                     .name("values").beginArray();
                    for (BtfType.EnumValue v : t.values()) {
                        w.beginObject().name("name").value(name(v.name())).name("val").jsonValue(enumValue(t, v.value())).endObject();
                    }
                    w.endArray();
                    break;
                case FWD:
                    w.name("fwd_kind").value(t.forwardUnion() ? "union" : "struct");
                    break;
                case FUNC: case VAR:
                    w.name("type_id").value(t.type()).name("linkage").value(linkage(t.linkage()));
                    break;
                case FUNC_PROTO:
                    w.name("ret_type_id").value(t.type()).name("vlen").value(t.vlen()).name("params").beginArray();
                    for (BtfType.Param p : t.params()) w.beginObject().name("name").value(name(p.name())).name("type_id").value(p.type()).endObject();
                    w.endArray();
                    break;
                case DATASEC:
                    w.name("size").value(t.size()).name("vlen").value(t.vlen()).name("vars").beginArray();
                    for (BtfType.VarSecInfo v : t.vars()) {
                        w.beginObject().name("type_id").value(v.type()).name("offset").value(v.offset()).name("size").value(v.size()).endObject();
                    }
                    w.endArray();
                    break;
                case FLOAT:
                    w.name("size").value(t.size());
                    break;
                case DECL_TAG:
                    w.name("type_id").value(t.type()).name("component_idx").value(t.componentIndex());
                    break;
                default:
                    break;
            }
            w.endObject();
        }
        w.endArray().endObject();
        w.flush();
    }

    static String name(String n) { return n.isEmpty() ? "(anon)" : n; }

    /** A value as the enum's signedness reads it: ENUM's 32 bits or ENUM64's 64, signed or not. */
    private static String enumValue(BtfType t, long v) {
        if (t.signedEnum()) return Long.toString(v);
        if (t.kind() == BtfKind.ENUM) return Long.toString(v & 0xffffffffL);
        return v >= 0 ? Long.toString(v) : new BigInteger(Long.toUnsignedString(v)).toString();
    }

    private static String intEncoding(int e) {
        switch (e) {
            case 0: return "(none)";
            case BtfType.IntEncoding.SIGNED: return "SIGNED";
            case BtfType.IntEncoding.CHAR: return "CHAR";
            case BtfType.IntEncoding.BOOL: return "BOOL";
            default: return "UNKN";
        }
    }

    private static String linkage(int l) {
        switch (l) {
            case BtfType.LINKAGE_STATIC: return "static";
            case BtfType.LINKAGE_GLOBAL: return "global";
            case BtfType.LINKAGE_EXTERN: return "extern";
            default: return "(unknown)";
        }
    }
}
