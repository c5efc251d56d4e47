package kernelloader.btf;

import java.io.IOException;
import java.io.Writer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import kernelloader.image.KernelFormatException;

/**
 * Writes every type of a BTF blob as a C header, in the manner of
 * {@code bpftool btf dump file F format c} (libbpf's btf_dump): a vmlinux.h that compiles.
 *
 * <p>The order: all enums first (they depend on nothing), then typedefs and struct/union
 * definitions, each after what it holds by value; a named struct only pointed to gets a
 * forward declaration {@code struct foo;} just before its first use. Anonymous structs and
 * unions are written inline where they are used. Where the compiler would place a member
 * earlier than the kernel did, anonymous bit-fields ({@code long: 64;}) pad up to the
 * kernel's offset, and a struct whose members sit off their natural alignment is marked
 * {@code __attribute__((packed))}, so the layout is the kernel's, not just the names.
 *
 * <p>Split BTF (a module's) is written with the base types it continues, so the header stands
 * alone: the kernel's types, then the module's.
 *
 * <p>C has one namespace for struct/union/enum tags and one for typedef names and enum
 * constants; BTF may hold several different types of one name (the kernel has several
 * {@code Opt_err} constants), so repeats get libbpf's suffix: {@code Opt_err___2}.
 */
public final class CHeaderWriter {
    /** Deeper than any kernel's type graph; a hostile blob could otherwise exhaust the stack. */
    private static final int MAX_DEPTH = 2000;
    /** Ample for MAX_DEPTH levels of require/declaration frames. */
    private static final long STACK_BYTES = 64L << 20;

    private final Btf btf;
    private final Writer out;
    private final int pointerSize;
    private final String[] names;
    private final byte[] state;        // composites and typedefs: 0 not written, 1 being written, 2 written
    private final boolean[] declared;  // a named struct/union has a forward declaration or its definition out
    private final int[] definitionOf;  // a FWD: the struct/union of its name, or 0 where BTF defines none
    private final Map<Integer, Integer> anonEnumTypedef = new HashMap<>();
    private final long[] alignCache;
    private int depth;

    private CHeaderWriter(Btf btf, Writer out) {
        this.btf = btf;
        this.out = out;
        this.pointerSize = pointerSize(btf);
        int n = btf.lastId() + 1;
        this.names = new String[n];
        this.state = new byte[n];
        this.declared = new boolean[n];
        this.definitionOf = new int[n];
        this.alignCache = new long[n];
    }

    /** Writes the header for all of {@code btf}'s types. */
    public static void write(Btf btf, Writer out) throws IOException, KernelFormatException {
        // The writer recurses once per level of nesting, up to MAX_DEPTH on hostile input: on a
        // thread of its own with room for that, not on whatever stack the caller happens to have
        // (a test JVM overflowed its own at ~2000 levels while the same run alone did not).
        CHeaderWriter w = new CHeaderWriter(btf, out);
        Throwable[] failure = {null};
        Thread t = new Thread(null, () -> {
            try {
                w.writeAll();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "btf-c-header", STACK_BYTES);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            t.interrupt();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing the C header", e);
        }
        Throwable f = failure[0];
        if (f instanceof IOException io) throw io;
        if (f instanceof KernelFormatException k) throw k;
        if (f instanceof RuntimeException r) throw r;
        if (f instanceof Error e) throw e;
    }

    /** The pointer size, from the width of {@code long} (as libbpf guesses it); 8 if unknown. */
    public static int pointerSize(Btf btf) {
        for (String n : new String[] {"long int", "long unsigned int", "long"}) {
            BtfType t = btf.named(n, BtfKind.INT);
            if (t != null && (t.size() == 4 || t.size() == 8)) return (int) t.size();
        }
        return 8;
    }

    private void writeAll() throws IOException, KernelFormatException {
        assignNames();
        out.write("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
        // clang's alone (BPF CO-RE): other compilers warn of a pragma they do not know (gcc -Wall)
        out.write("#if !defined(BPF_NO_PRESERVE_ACCESS_INDEX) && defined(__clang__)\n"
                + "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n");
        writeIntFallbacks();
        // typedefs of an anonymous enum define it in place; every other enum stands alone
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (t.kind() == BtfKind.TYPEDEF) {
                BtfType target = btf.type(t.type());
                if (target != null && target.kind().isEnum() && target.anonymous()) anonEnumTypedef.putIfAbsent(target.id(), id);
            }
        }
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (!t.kind().isEnum() || anonEnumTypedef.containsKey(id)) continue;
            if (t.vlen() == 0) {
                if (!t.anonymous() && names[id].equals(t.name()) && btf.named(t.name()).stream().noneMatch(o -> o.kind().isEnum() && o.vlen() > 0)) {
                    out.write("enum " + names[id] + ";\n\n");
                }
                continue;
            }
            out.write(enumBody(t, 0));
            out.write(";\n\n");
        }
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (t.kind() == BtfKind.FWD && !declared[id] && !t.anonymous() && names[id].equals(t.name())
                    && btf.named(t.name()).stream().noneMatch(o -> o.kind().isComposite())) {
                // an opaque type the kernel only ever points to: declared, as bpftool does
                out.write((t.forwardUnion() ? "union " : "struct ") + names[id] + ";\n\n");
                declared[id] = true;
            } else if (t.kind() == BtfKind.TYPEDEF) {
                emitTypedef(id);
            } else if (t.kind().isComposite() && !t.anonymous()) {
                emitComposite(id);
            }
        }
        out.write("#if !defined(BPF_NO_PRESERVE_ACCESS_INDEX) && defined(__clang__)\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n");
        out.flush();
    }

    /**
     * BTF INTs named __Poly8_t ... __Poly128_t are gcc's arm64 NEON built-ins, unknown to a
     * compiler for another machine: there the header declares an unsigned integer of the same
     * size in their place. (Other odd INT names, gcc's "ssizetype" of array indexes, never
     * appear in a declaration.)
     */
    private void writeIntFallbacks() throws IOException {
        StringBuilder poly = new StringBuilder();
        Set<String> seen = new HashSet<>();
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (t.kind() != BtfKind.INT || !t.name().matches("__Poly[0-9]+_t") || !seen.add(t.name())) continue;
            String c = switch ((int) t.size()) {
                case 1 -> "unsigned char";
                case 2 -> "unsigned short";
                case 4 -> "unsigned int";
                case 8 -> "unsigned long long";
                default -> "unsigned __int128";
            };
            poly.append("typedef ").append(c).append(' ').append(t.name()).append(";\n");
        }
        if (poly.length() > 0) out.write("#ifndef __aarch64__\n" + poly + "#endif\n\n");
    }

    // ---- names -------------------------------------------------------------------------

    private void assignNames() {
        Map<String, Integer> tags = new HashMap<>();     // struct/union/enum tags
        Map<String, Integer> idents = new HashMap<>();   // typedef names and enum constants
        Map<String, Integer> firstTag = new HashMap<>(); // name -> id of its first definition, for FWDs
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (t.anonymous()) continue;
            BtfKind k = t.kind();
            if (k.isComposite() || (k.isEnum() && t.vlen() > 0)) {
                names[id] = unique(tags, t.name());
                firstTag.putIfAbsent(tagKey(t), id);
            }
        }
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (t.anonymous()) continue;
            BtfKind k = t.kind();
            if (k == BtfKind.FWD || (k.isEnum() && t.vlen() == 0)) {
                // a forward declaration names the definition of that name, if there is one
                Integer def = firstTag.get(tagKey(t));
                names[id] = def != null ? names[def] : unique(tags, t.name());
                if (def != null && k == BtfKind.FWD) definitionOf[id] = def;
            } else if (k == BtfKind.TYPEDEF) {
                names[id] = unique(idents, t.name());
            }
        }
        // a hostile blob may leave a kind that needs a name without one
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfKind k = btf.type(id).kind();
            if (names[id] == null && (k == BtfKind.TYPEDEF || k == BtfKind.FWD || (k.isEnum() && btf.type(id).vlen() == 0))) {
                names[id] = "__btf_anon_" + id;
            }
        }
        enumConstants = new HashMap<>();
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (!t.kind().isEnum()) continue;
            String[] cs = new String[t.values().size()];
            for (int i = 0; i < cs.length; i++) cs[i] = unique(idents, t.values().get(i).name());
            enumConstants.put(id, cs);
        }
    }

    private Map<Integer, String[]> enumConstants;

    private static String tagKey(BtfType t) {
        boolean union = t.kind() == BtfKind.UNION || (t.kind() == BtfKind.FWD && t.forwardUnion());
        String kind = t.kind().isEnum() ? "enum" : union ? "union" : "struct";
        return kind + " " + t.name();
    }

    private static String unique(Map<String, Integer> used, String name) {
        int n = used.merge(name, 1, Integer::sum);
        return n == 1 ? name : name + "___" + n;
    }

    // ---- ordering ----------------------------------------------------------------------

    /** Makes sure what a use of {@code id} needs is written: the full type when held by value. */
    private void require(int id, boolean complete) throws IOException, KernelFormatException {
        if (++depth > MAX_DEPTH) throw new KernelFormatException("BTF type graph nests deeper than " + MAX_DEPTH + " levels at type " + id);
        try {
            BtfType t = btf.type(id);
            if (t == null) return;
            switch (t.kind()) {
                case PTR:
                    require(t.type(), false);
                    break;
                case CONST: case VOLATILE: case RESTRICT: case TYPE_TAG:
                    require(t.type(), complete);
                    break;
                case ARRAY:
                    require(t.type(), true);
                    break;
                case TYPEDEF:
                    emitTypedef(id);
                    if (complete) require(t.type(), true);
                    break;
                case STRUCT: case UNION:
                    if (t.anonymous()) {
                        for (BtfType.Member m : t.members()) require(m.type(), true);
                    } else if (complete) {
                        emitComposite(id);
                    } else if (!declared[id] && state[id] != 2) {
                        out.write((t.kind() == BtfKind.UNION ? "union " : "struct ") + names[id] + ";\n\n");
                        declared[id] = true;
                    }
                    break;
                case FWD: {
                    // a pointer to a type BTF knows here only by name (another file's view of a
                    // struct): declared before its first use, or gcc would take a first mention
                    // inside a parameter list for a new type local to that prototype
                    int target = definitionOf[id] != 0 ? definitionOf[id] : id;
                    if (!t.anonymous() && !declared[target] && state[target] != 2) {
                        out.write((t.forwardUnion() ? "union " : "struct ") + names[id] + ";\n\n");
                        declared[target] = true;
                        declared[id] = true;
                    }
                    break;
                }
                case FUNC_PROTO:
                    require(t.type(), false);
                    for (BtfType.Param p : t.params()) require(p.type(), false);
                    break;
                default:
                    break;
            }
        } finally {
            depth--;
        }
    }

    private void emitTypedef(int id) throws IOException, KernelFormatException {
        if (state[id] != 0) return;
        state[id] = 1;
        BtfType t = btf.type(id);
        if (t.name().equals("__builtin_va_list")) {   // gcc's own, as libbpf leaves it out
            state[id] = 2;
            return;
        }
        BtfType target = btf.type(t.type());
        String text;
        if (target != null && target.kind().isEnum() && target.anonymous()) {
            Integer owner = anonEnumTypedef.get(target.id());
            if (owner != null && owner != id) {
                emitTypedef(owner);
                text = "typedef " + names[owner] + " " + names[id];
            } else {
                text = "typedef " + enumBody(target, 0) + " " + names[id];
            }
        } else {
            require(t.type(), false);
            text = "typedef " + declaration(t.type(), names[id], 0);
        }
        out.write(text);
        out.write(";\n\n");
        state[id] = 2;
    }

    private void emitComposite(int id) throws IOException, KernelFormatException {
        if (state[id] == 1) {
            // asked for by value while its own definition is being written: a struct that holds
            // itself, directly or through others; no C type can, and a header with it would not compile
            BtfType t = btf.type(id);
            throw new KernelFormatException("BTF: " + (t.kind() == BtfKind.UNION ? "union " : "struct ") + names[id] + " (type " + id
                    + ") holds itself by value, through its members' types: no C header can declare it");
        }
        if (state[id] != 0) return;
        state[id] = 1;
        BtfType t = btf.type(id);
        for (BtfType.Member m : t.members()) require(m.type(), true);
        out.write(compositeBody(t, 0));
        out.write(";\n\n");
        state[id] = 2;
        declared[id] = true;
    }

    // ---- text --------------------------------------------------------------------------

    private String enumBody(BtfType t, int indent) {
        StringBuilder sb = new StringBuilder();
        sb.append("enum ");
        if (!t.anonymous()) sb.append(names[t.id()]).append(' ');
        sb.append("{\n");
        String[] cs = enumConstants.get(t.id());
        for (int i = 0; i < t.values().size(); i++) {
            long v = t.values().get(i).value();
            tabs(sb, indent + 1).append(cs[i]).append(" = ").append(enumValue(t, v)).append(",\n");
        }
        tabs(sb, indent).append('}');
        // an enum of 1 or 2 bytes (the kernel's __packed enums) is only that small when packed
        if (t.size() < 4) sb.append(" __attribute__((packed))");
        return sb.toString();
    }

    private static String enumValue(BtfType t, long v) {
        if (t.kind() == BtfKind.ENUM) return t.signedEnum() ? Long.toString((int) v) : Long.toString(v & 0xffffffffL);
        // -9223372036854775808LL would be minus a constant too large for long long
        if (t.signedEnum() && v == Long.MIN_VALUE) return "(-9223372036854775807LL - 1)";
        return t.signedEnum() ? v + "LL" : Long.toUnsignedString(v) + "ULL";
    }

    /** "struct name {...}" or "union {...}", with padding and packing that give the kernel's layout. */
    private String compositeBody(BtfType t, int indent) throws KernelFormatException {
        return compositeBody(t, indent, !t.anonymous());
    }

    private String compositeBody(BtfType t, int indent, boolean named) throws KernelFormatException {
        StringBuilder sb = new StringBuilder();
        boolean union = t.kind() == BtfKind.UNION;
        sb.append(union ? "union " : "struct ");
        if (named) sb.append(names[t.id()]).append(' ');
        sb.append('{');
        int bodyStart = sb.length();
        sb.append('\n');
        boolean packed = isPacked(t);
        long pos = 0;   // in bits: where the compiler has got to
        for (BtfType.Member m : t.members()) {
            long size = btf.sizeOf(m.type(), pointerSize) * 8;
            if (!union) {
                long natural = naturalOffset(pos, m, packed);
                if (m.bitOffset() > natural) pad(sb, indent + 1, pos, m.bitOffset());
            }
            BtfType embedded = m.name().isEmpty() ? embeddedByName(m.type()) : null;
            if (embedded != null) {
                // "struct aes_enckey;" as a member: a named struct embedded the way -fms-extensions
                // (the kernel's build since 6.19) allows; plain C reads it as declaring nothing,
                // so its members are written out in an anonymous struct of the same layout
                tabs(sb, indent + 1).append("/* ").append(embedded.kind() == BtfKind.UNION ? "union " : "struct ")
                        .append(names[embedded.id()]).append(", embedded */\n");
                tabs(sb, indent + 1).append(compositeBody(embedded, indent + 1, false));
            } else {
                tabs(sb, indent + 1).append(declaration(m.type(), m.name(), indent + 1));
            }
            if (m.bitfieldSize() != 0) sb.append(": ").append(m.bitfieldSize());
            sb.append(";\n");
            long end = m.bitOffset() + (m.bitfieldSize() != 0 ? m.bitfieldSize() : size);
            pos = Math.max(pos, end);
        }
        if (!union) {
            long align = packed ? 1 : alignOf(t.id());
            long natural = roundUp(roundUp(pos, 8) / 8, align) * 8;
            if (t.size() * 8 > natural) pad(sb, indent + 1, pos, t.size() * 8);
        } else if (t.size() * 8 > pos && t.size() <= 8) {
            // every member of a union starts at 0, so one anonymous bit-field gives its size
            tabs(sb, indent + 1).append(pointerSize == 8 ? "long: " : "long long: ").append(t.size() * 8).append(";\n");
        } else if (t.size() * 8 > pos) {
            // larger: an anonymous struct of nothing but padding
            tabs(sb, indent + 1).append("struct {\n");
            pad(sb, indent + 2, 0, t.size() * 8);
            tabs(sb, indent + 1).append("};\n");
        }
        if (sb.length() == bodyStart + 1) sb.setLength(bodyStart);   // no members, no padding: "struct foo {}"
        else tabs(sb, indent);
        sb.append('}');
        if (packed) sb.append(" __attribute__((packed))");
        return sb.toString();
    }

    /** The named struct or union an unnamed member of type {@code id} is (through typedefs), or null. */
    private BtfType embeddedByName(int id) {
        for (int i = 0; i < 64; i++) {
            BtfType t = btf.type(id);
            if (t == null) return null;
            if (t.kind() == BtfKind.TYPEDEF) {
                id = t.type();
                continue;
            }
            return (t.kind() == BtfKind.STRUCT || t.kind() == BtfKind.UNION) && !t.anonymous() ? t : null;
        }
        return null;
    }

    /** Where the compiler would put member {@code m} after {@code pos} bits of a struct. */
    private long naturalOffset(long pos, BtfType.Member m, boolean packed) {
        if (m.bitfieldSize() != 0) {
            if (packed) return pos;
            long unit = Math.max(8, btf.sizeOf(m.type(), pointerSize) * 8);
            // a bit-field goes where it is unless it would straddle a unit of its type
            return pos / unit == (pos + m.bitfieldSize() - 1) / unit ? pos : roundUp(pos, unit);
        }
        long bytes = roundUp(pos, 8) / 8;
        return (packed ? bytes : roundUp(bytes, alignOf(m.type()))) * 8;
    }

    /** Anonymous bit-fields from bit {@code from} to bit {@code to}, each within a unit of its own type. */
    private void pad(StringBuilder sb, int indent, long from, long to) {
        long pos = from;
        String longName = pointerSize == 8 ? "long" : "long long";
        while (pos < to) {
            long left = to - pos;
            if (pos % 8 != 0 || left < 8) {
                long k = Math.min(8 - pos % 8, left);
                tabs(sb, indent).append("char: ").append(k).append(";\n");
                pos += k;
                continue;
            }
            int unit = pos % 64 == 0 && left >= 64 ? 64 : pos % 32 == 0 && left >= 32 ? 32 : pos % 16 == 0 && left >= 16 ? 16 : 8;
            String type = unit == 64 ? longName : unit == 32 ? "int" : unit == 16 ? "short" : "char";
            tabs(sb, indent).append(type).append(": ").append(unit).append(";\n");
            pos += unit;
        }
    }

    /**
     * A struct is packed when a member sits off its type's alignment or the size is not a
     * multiple of the alignment its members would give it (libbpf's test).
     */
    private boolean isPacked(BtfType t) {
        if (t.kind() == BtfKind.UNION) {
            // a union smaller than its widest member's alignment would round it to (arm64's mrq_bwmgr unions)
            long align = 1;
            for (BtfType.Member m : t.members()) align = Math.max(align, alignOf(m.type()));
            return t.size() % align != 0;
        }
        if (t.kind() != BtfKind.STRUCT) return false;
        long align = 1;
        long pos = 0;
        for (BtfType.Member m : t.members()) {
            long a = alignOf(m.type());
            align = Math.max(align, a);
            if (m.bitfieldSize() == 0 && m.bitOffset() % (8 * a) != 0) return true;
            // a bit-field the compiler would have moved past a unit boundary (s390's struct pgid)
            if (m.bitOffset() < naturalOffset(pos, m, false)) return true;
            pos = Math.max(pos, m.bitOffset() + (m.bitfieldSize() != 0 ? m.bitfieldSize() : btf.sizeOf(m.type(), pointerSize) * 8));
        }
        return t.size() % align != 0;
    }

    /** The alignment the compiler gives a type (libbpf's btf__align_of), 1 if packed; computed once per type. */
    private long alignOf(int id) {
        int r = btf.resolve(id);
        if (r <= 0 || r >= alignCache.length) return 1;
        if (alignCache[r] == 0) {
            alignCache[r] = 1;   // a struct that (through a hostile loop) holds itself stays at 1
            alignCache[r] = computeAlign(btf.type(r));
        }
        return alignCache[r];
    }

    private long computeAlign(BtfType t) {
        switch (t.kind()) {
            case INT: case ENUM: case ENUM64: case FLOAT:
                return Math.max(1, Math.min(pointerSize, t.size()));
            case PTR:
                return pointerSize;
            case ARRAY:
                return alignOf(t.type());
            case STRUCT: case UNION: {
                if (isPacked(t)) return 1;
                long align = 1;
                for (BtfType.Member m : t.members()) align = Math.max(align, alignOf(m.type()));
                return t.size() % align != 0 ? 1 : align;
            }
            default:
                return 1;
        }
    }

    /**
     * The C declaration of {@code inner} (a name, or "" for an abstract declarator) with type
     * {@code id}: pointers, arrays and function types wrapped the way C's declarator syntax
     * wants them, anonymous structs and unions written out in place.
     */
    private String declaration(int id, String inner, int indent) throws KernelFormatException {
        if (++depth > MAX_DEPTH) throw new KernelFormatException("BTF type graph nests deeper than " + MAX_DEPTH + " levels at type " + id);
        try {
            BtfType t = btf.type(id);
            if (t == null) return join("void", inner);
            switch (t.kind()) {
                case INT: case FLOAT:
                    return join(t.name(), inner);
                case TYPEDEF:
                    return join(names[id], inner);
                case STRUCT: case UNION:
                    if (t.anonymous()) return join(compositeBody(t, indent), inner);
                    return join((t.kind() == BtfKind.UNION ? "union " : "struct ") + names[id], inner);
                case FWD:
                    return join((t.forwardUnion() ? "union " : "struct ") + names[id], inner);
                case ENUM: case ENUM64:
                    if (!t.anonymous()) return join("enum " + names[id], inner);
                    // anonymous enums are written on their own; a member of one is its integer
                    return join(integerOf(t), inner);
                case PTR: {
                    BtfType target = btf.type(btf.skipQualifiers(t.type()));
                    boolean wrap = target != null && (target.kind() == BtfKind.ARRAY || target.kind() == BtfKind.FUNC_PROTO);
                    // spacing as libbpf's: "char * (*f)(void)", "struct foo * const p"
                    String sep = startsWithQualifier(inner) ? " " : "";
                    String star = wrap ? "(*" + sep + inner + ")" : inner.startsWith("(") || !sep.isEmpty() ? "* " + inner : "*" + inner;
                    return declaration(t.type(), star, indent);
                }
                case CONST: case VOLATILE: case RESTRICT: {
                    String q = t.kind() == BtfKind.CONST ? "const" : t.kind() == BtfKind.VOLATILE ? "volatile" : "restrict";
                    BtfType target = btf.type(skipTags(t.type()));
                    if (target != null && target.kind() == BtfKind.PTR) return declaration(t.type(), inner.isEmpty() ? q : q + " " + inner, indent);
                    if (target != null && target.kind() == BtfKind.FUNC_PROTO) return declaration(t.type(), inner, indent);
                    if (t.kind() == BtfKind.RESTRICT) return declaration(t.type(), inner, indent);
                    // a const array of const elements (gcc's own BTF writes those) is one const in C:
                    // "const const char name[16]" draws gcc's duplicate-decl-specifier warning
                    String rest = declaration(t.type(), inner, indent);
                    return rest.startsWith(q + " ") ? rest : q + " " + rest;
                }
                case TYPE_TAG:
                    return declaration(t.type(), inner, indent);
                case ARRAY:
                    return declaration(t.type(), inner + "[" + t.array().elements() + "]", indent);
                case FUNC_PROTO: {
                    StringBuilder ps = new StringBuilder("(");
                    if (t.params().isEmpty()) ps.append("void");
                    for (int i = 0; i < t.params().size(); i++) {
                        BtfType.Param p = t.params().get(i);
                        if (i > 0) ps.append(", ");
                        ps.append(p.type() == 0 && i == t.params().size() - 1 ? "..." : declaration(p.type(), "", indent));
                    }
                    ps.append(')');
                    return declaration(t.type(), inner + ps, indent);
                }
                default:
                    return join("void", inner);
            }
        } finally {
            depth--;
        }
    }

    private static boolean startsWithQualifier(String inner) {
        return inner.startsWith("const") || inner.startsWith("volatile") || inner.startsWith("restrict");
    }


    private int skipTags(int id) {
        for (int i = 0; i < 64; i++) {
            BtfType t = btf.type(id);
            if (t == null || t.kind() != BtfKind.TYPE_TAG) return id;
            id = t.type();
        }
        return id;
    }

    /** The integer type of an enum's size and signedness, for members of anonymous enums. */
    private String integerOf(BtfType e) {
        boolean signed = e.signedEnum();
        switch ((int) e.size()) {
            case 1: return signed ? "signed char" : "unsigned char";
            case 2: return signed ? "short" : "unsigned short";
            case 8: return signed ? "long long" : "unsigned long long";
            default: return signed ? "int" : "unsigned int";
        }
    }

    private static String join(String type, String inner) {
        return inner.isEmpty() ? type : type + " " + inner;
    }

    private static StringBuilder tabs(StringBuilder sb, int n) {
        for (int i = 0; i < n; i++) sb.append('\t');
        return sb;
    }

    private static long roundUp(long v, long to) {
        return to <= 1 ? v : (v + to - 1) / to * to;
    }
}
