package kernelloader.ghidra;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ghidra.program.model.data.AbstractFloatDataType;
import ghidra.program.model.data.AbstractIntegerDataType;
import ghidra.program.model.data.Array;
import ghidra.program.model.data.ArrayDataType;
import ghidra.program.model.data.BooleanDataType;
import ghidra.program.model.data.CategoryPath;
import ghidra.program.model.data.CharDataType;
import ghidra.program.model.data.DataType;
import ghidra.program.model.data.DataTypeConflictHandler;
import ghidra.program.model.data.DataTypeManager;
import ghidra.program.model.data.EnumDataType;
import ghidra.program.model.data.FunctionDefinition;
import ghidra.program.model.data.FunctionDefinitionDataType;
import ghidra.program.model.data.InvalidDataTypeException;
import ghidra.program.model.data.ParameterDefinition;
import ghidra.program.model.data.ParameterDefinitionImpl;
import ghidra.program.model.data.PointerDataType;
import ghidra.program.model.data.StructureDataType;
import ghidra.program.model.data.TypedefDataType;
import ghidra.program.model.data.UnionDataType;
import ghidra.program.model.data.Undefined;
import ghidra.program.model.data.VoidDataType;
import ghidra.util.exception.CancelledException;
import ghidra.util.task.TaskMonitor;
import kernelloader.btf.Btf;
import kernelloader.btf.BtfKind;
import kernelloader.btf.BtfType;
import kernelloader.btf.CHeaderWriter;

/**
 * Turns a kernel's BTF into Ghidra data types, all under one category ({@code /BTF}):
 * structures laid out at the kernel's member offsets (bit-fields at their bits), unions, enums,
 * typedefs, and function definitions for function pointers. Qualifiers (const, volatile,
 * restrict, type tags) have no Ghidra counterpart and are dropped; integers become Ghidra's
 * built-ins of the same size and signedness, so layouts do not depend on the program's data
 * organization.
 *
 * <p>Ghidra keeps one namespace per category, for every kind: {@code typedef struct foo foo}
 * is the struct itself, and other clashes get libbpf's suffix ({@code foo___2}). Anonymous
 * types are named after their id ({@code anon_struct_123}); a prototype is named after the
 * typedef or member that points to it ({@code file_operations_read_fn}).
 */
final class BtfDataTypes {
    static final CategoryPath CATEGORY = new CategoryPath("/BTF");
    /**
     * Types are made recursively only through typedefs, qualifiers, pointers, arrays and
     * prototypes (structs are shells made up front): kernels stay far below this; a hostile loop
     * stops here, well inside the stack of whatever thread Ghidra loads on.
     */
    private static final int MAX_DEPTH = 256;

    private final Btf btf;
    private final DataTypeManager dtm;
    private final int pointerSize;
    private final DataType[] made;
    private final String[] names;
    private final boolean bigEndian;
    private int membersDropped;
    private int depth;

    private BtfDataTypes(Btf btf, DataTypeManager dtm) {
        this.btf = btf;
        this.dtm = dtm;
        this.pointerSize = CHeaderWriter.pointerSize(btf);
        this.made = new DataType[btf.lastId() + 1];
        this.names = new String[btf.lastId() + 1];
        this.bigEndian = btf.order() == ByteOrder.BIG_ENDIAN;
    }

    /** Types added to the manager, per kind; and members that could not be placed. */
    Map<BtfKind, Integer> added() { return added; }
    int membersDropped() { return membersDropped; }
    /** A few of the members not placed, with why: for the log. */
    List<String> droppedExamples() { return droppedExamples; }

    private final List<String> droppedExamples = new ArrayList<>();

    private void drop(String what) {
        membersDropped++;
        if (droppedExamples.size() < 3) droppedExamples.add(what);
    }

    private final Map<BtfKind, Integer> added = new EnumMap<>(BtfKind.class);

    /**
     * Creates every BTF type in {@code dtm} (inside the caller's transaction). The result then
     * hands out the manager's own types by BTF id, for prototypes and variables.
     */
    static BtfDataTypes create(Btf btf, DataTypeManager dtm, TaskMonitor monitor) throws CancelledException {
        BtfDataTypes b = new BtfDataTypes(btf, dtm);
        b.assignNames();
        int from = b.reuseBase();
        // shells first, so that pointers and typedefs can refer to a struct before it is filled
        for (int id = from; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (t.kind() == BtfKind.STRUCT) b.made[id] = new StructureDataType(CATEGORY, b.names[id], (int) t.size(), dtm);
            else if (t.kind() == BtfKind.UNION) b.made[id] = new UnionDataType(CATEGORY, b.names[id], dtm);
        }
        monitor.setMessage("BTF: laying out structures");
        for (int id = from; id <= btf.lastId(); id++) {
            if ((id & 0xfff) == 0) monitor.checkCancelled();
            BtfType t = btf.type(id);
            if (t.kind().isComposite()) b.fill(t);
        }
        List<DataType> top = new ArrayList<>();
        boolean[] isTop = new boolean[b.made.length];
        for (int id = from; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            switch (t.kind()) {
                case STRUCT: case UNION: case ENUM: case ENUM64: case TYPEDEF: case FUNC_PROTO: {
                    if (t.kind() == BtfKind.FUNC_PROTO && b.made[id] == null) break;   // only those pointed to are types
                    if (t.kind() == BtfKind.TYPEDEF && b.names[id] == null) break;      // typedef struct foo foo
                    DataType dt = b.dataType(id);
                    if (dt != null && dt.getCategoryPath().equals(CATEGORY)) {
                        top.add(dt);
                        isTop[id] = true;
                        b.added.merge(t.kind(), 1, Integer::sum);
                    }
                    break;
                }
                default:
                    break;
            }
        }
        monitor.setMessage("BTF: adding " + top.size() + " data types");
        dtm.addDataTypes(top, DataTypeConflictHandler.DEFAULT_HANDLER, monitor);
        // from here on, hand out the manager's own types: a pointer to one resolves at once,
        // where a pointer to a new struct would be compared member by member each time
        for (int id = from; id <= btf.lastId(); id++) {
            if (b.made[id] == null) continue;
            if (isTop[id]) {
                DataType db = dtm.getDataType(CATEGORY, b.made[id].getName());
                b.made[id] = db != null ? db : dtm.resolve(b.made[id], DataTypeConflictHandler.DEFAULT_HANDLER);
            } else {
                b.made[id] = null;   // pointers, arrays, placeholders: remade over the manager's types on use
            }
        }
        return b;
    }

    /**
     * Split BTF (a module's, continuing its kernel's): where the program already holds the
     * kernel's types (made from the base by this class, so under the names {@link #assignNames}
     * gives them again), a module's reference to one is to that type, and only the module's own
     * are made. Otherwise the base's types are made too. Returns the first id to make.
     */
    private int reuseBase() {
        if (btf.base() == null) return btf.firstId();
        int found = 0, missing = 0;
        for (int id = 1; id < btf.firstId(); id++) {
            BtfType t = btf.type(id);
            boolean named = switch (t.kind()) {
                case STRUCT, UNION, ENUM, ENUM64 -> true;
                case TYPEDEF -> names[id] != null;
                default -> false;
            };
            if (!named) continue;
            DataType dt = dtm.getDataType(CATEGORY, names[id]);
            if (dt != null) {
                made[id] = dt;
                found++;
            } else {
                missing++;
            }
        }
        if (missing > found) {
            java.util.Arrays.fill(made, 0, btf.firstId(), null);
            return 1;
        }
        return btf.firstId();
    }

    // ---- names -------------------------------------------------------------------------

    private void assignNames() {
        Map<String, Integer> used = new HashMap<>();
        Map<String, Integer> tagged = new HashMap<>();
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            switch (t.kind()) {
                case STRUCT: case UNION: case ENUM: case ENUM64:
                    if (t.anonymous()) {
                        names[id] = (t.kind() == BtfKind.UNION ? "anon_union_" : t.kind().isEnum() ? "anon_enum_" : "anon_struct_") + id;
                    } else {
                        names[id] = unique(used, t.name());
                        tagged.putIfAbsent(t.name(), id);
                    }
                    break;
                default:
                    break;
            }
        }
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (t.kind() == BtfKind.TYPEDEF && !t.anonymous()) {
                BtfType target = btf.type(t.type());
                // typedef struct foo foo: in Ghidra that is the struct itself
                if (target != null && !target.anonymous() && target.name().equals(t.name()) && tagged.containsKey(t.name())) continue;
                names[id] = unique(used, t.name());
                // a prototype pointed to by a typedef takes its name
                int proto = protoBehind(t.type());
                if (proto != 0 && names[proto] == null) names[proto] = unique(used, t.name() + "_fn");
            }
        }
        for (int id = 1; id <= btf.lastId(); id++) {
            BtfType t = btf.type(id);
            if (!t.kind().isComposite()) continue;
            for (BtfType.Member m : t.members()) {
                int proto = protoBehind(m.type());
                if (proto != 0 && names[proto] == null) {
                    names[proto] = unique(used, (t.anonymous() ? names[id] : t.name()) + "_" + (m.name().isEmpty() ? "anon" : m.name()) + "_fn");
                }
            }
        }
        for (int id = 1; id <= btf.lastId(); id++) {
            if (btf.type(id).kind() == BtfKind.FUNC_PROTO && names[id] == null) names[id] = "proto_" + id;
        }
    }

    /** The FUNC_PROTO a pointer (through qualifiers) leads to, or 0. */
    private int protoBehind(int id) {
        BtfType t = btf.type(btf.skipQualifiers(id));
        if (t == null || t.kind() != BtfKind.PTR) return 0;
        BtfType target = btf.type(btf.skipQualifiers(t.type()));
        return target != null && target.kind() == BtfKind.FUNC_PROTO ? target.id() : 0;
    }


    private static String unique(Map<String, Integer> used, String name) {
        int n = used.merge(name, 1, Integer::sum);
        return n == 1 ? name : name + "___" + n;
    }

    // ---- types -------------------------------------------------------------------------

    /** The Ghidra type for BTF type {@code id}, made on first use. */
    DataType dataType(int id) {
        if (id == 0) return VoidDataType.dataType;
        if (id < 0 || id >= made.length) return Undefined.getUndefinedDataType(1);
        if (made[id] != null) return made[id];
        if (++depth > MAX_DEPTH) {
            depth--;
            return Undefined.getUndefinedDataType(1);
        }
        try {
            BtfType t = btf.type(id);
            DataType dt;
            switch (t.kind()) {
                case INT: dt = integer(t); break;
                case FLOAT: {
                    DataType f = AbstractFloatDataType.getFloatDataType((int) t.size(), dtm);
                    dt = f != null ? f : Undefined.getUndefinedDataType((int) t.size());
                    break;
                }
                case PTR: dt = new PointerDataType(dataType(t.type()), pointerSize, dtm); break;
                case CONST: case VOLATILE: case RESTRICT: case TYPE_TAG: return dataType(t.type());
                case ARRAY: dt = array(t); break;
                case TYPEDEF:
                    if (names[id] == null) return dataType(t.type());   // typedef struct foo foo
                    dt = new TypedefDataType(CATEGORY, names[id], dataType(t.type()), dtm);
                    break;
                case ENUM: case ENUM64: dt = enumeration(t); break;
                case FWD: dt = forward(t); break;
                case FUNC_PROTO: dt = prototype(t); break;
                default: return null;   // FUNC, VAR, DATASEC, DECL_TAG name things, not types
            }
            made[id] = dt;
            return dt;
        } finally {
            depth--;
        }
    }

    private DataType integer(BtfType t) {
        int size = (int) t.size();
        BtfType.IntEncoding e = t.intEncoding();
        if ((e.encoding() & BtfType.IntEncoding.BOOL) != 0 && size == 1) return BooleanDataType.dataType;
        if (size == 1 && (e.encoding() & BtfType.IntEncoding.CHAR) != 0 || t.name().equals("char")) return CharDataType.dataType;
        DataType dt = e.signed() ? AbstractIntegerDataType.getSignedDataType(size, dtm) : AbstractIntegerDataType.getUnsignedDataType(size, dtm);
        return dt != null ? dt : Undefined.getUndefinedDataType(size);
    }

    private DataType array(BtfType t) {
        DataType elem = dataType(t.type());
        int len = elem == null ? 0 : elem.getLength();
        if (elem == null || len <= 0 || elem instanceof FunctionDefinition) {
            elem = Undefined.getUndefinedDataType(1);
            len = 1;
        }
        long n = t.array().elements();
        if (n > Integer.MAX_VALUE / Math.max(1, len)) n = 0;
        return new ArrayDataType(elem, (int) n, len, dtm);
    }

    private DataType enumeration(BtfType t) {
        int size = (int) t.size();
        if (size != 1 && size != 2 && size != 4 && size != 8) size = 4;
        EnumDataType e = new EnumDataType(CATEGORY, names[t.id()], size, dtm);
        long mask = size == 8 ? -1L : (1L << (size * 8)) - 1;
        for (BtfType.EnumValue v : t.values()) {
            try {
                e.add(v.name(), v.value());
            } catch (IllegalArgumentException outOfRange) {
                try {
                    e.add(v.name(), v.value() & mask);
                } catch (IllegalArgumentException stillBad) {
                    drop(names[t.id()] + "." + v.name() + ": " + stillBad.getMessage());
                }
            }
        }
        return e;
    }

    /** A forward declaration is the definition of that name where there is one, else an empty placeholder. */
    private DataType forward(BtfType t) {
        for (BtfType o : btf.named(t.name())) {
            if ((o.kind() == BtfKind.UNION) == t.forwardUnion() && o.kind().isComposite()) return made[o.id()];
        }
        String n = t.name();
        return t.forwardUnion() ? new UnionDataType(CATEGORY, n, dtm) : new StructureDataType(CATEGORY, n, 0, dtm);
    }

    private DataType prototype(BtfType t) {
        FunctionDefinitionDataType f = new FunctionDefinitionDataType(CATEGORY, names[t.id()], dtm);
        made[t.id()] = f;   // a prototype may take a pointer to its own kind
        f.setReturnType(valueType(t.type()));
        f.setArguments(parameters(t));
        List<BtfType.Param> ps = t.params();
        if (!ps.isEmpty() && ps.get(ps.size() - 1).type() == 0) f.setVarArgs(true);
        return f;
    }

    /** A FUNC_PROTO's parameters as Ghidra wants them (the trailing "..." is varargs, not a parameter). */
    ParameterDefinition[] parameters(BtfType proto) {
        List<ParameterDefinition> out = new ArrayList<>();
        List<BtfType.Param> ps = proto.params();
        for (int i = 0; i < ps.size(); i++) {
            BtfType.Param p = ps.get(i);
            if (p.type() == 0 && i == ps.size() - 1) break;
            out.add(new ParameterDefinitionImpl(p.name().isEmpty() ? null : p.name(), valueType(p.type()), null));
        }
        return out.toArray(new ParameterDefinition[0]);
    }

    /** A type usable for a value (return, parameter, variable): a bare prototype becomes a pointer to it. */
    DataType valueType(int id) {
        DataType dt = dataType(id);
        if (dt == null) return Undefined.getUndefinedDataType(pointerSize);
        if (dt instanceof FunctionDefinition) return new PointerDataType(dt, pointerSize, dtm);
        return dt;
    }

    /** Places a composite's members at the kernel's offsets; bit-fields at their bits. */
    private void fill(BtfType t) {
        DataType shell = made[t.id()];
        for (BtfType.Member m : t.members()) {
            DataType dt = dataType(m.type());
            String name = m.name().isEmpty() ? null : m.name();
            try {
                if (dt == null || dt instanceof FunctionDefinition) dt = Undefined.getUndefinedDataType(1);
                if (shell instanceof StructureDataType s) {
                    int byteOffset = (int) (m.bitOffset() / 8);
                    if (m.bitfieldSize() != 0) {
                        int shift = (int) (m.bitOffset() % 8);
                        int width = (shift + m.bitfieldSize() + 7) / 8;
                        int bit = bigEndian ? width * 8 - shift - m.bitfieldSize() : shift;
                        s.insertBitFieldAt(byteOffset, width, bit, dt, m.bitfieldSize(), name, null);
                    } else if (dt.getLength() <= 0 || btf.sizeOf(m.type(), pointerSize) == 0) {
                        // flexible arrays take no room and Ghidra keeps them as int[0]; an empty
                        // struct (lock_class_key without lockdep) Ghidra would count as a byte,
                        // moving what follows: it holds nothing, so it is left out
                        if (dt instanceof Array && dt.isZeroLength()) s.insertAtOffset(byteOffset, dt, 0, name, null);
                    } else if (byteOffset + dt.getLength() <= s.getLength()) {
                        s.replaceAtOffset(byteOffset, dt, dt.getLength(), name, null);
                    } else {
                        drop(t.name() + "." + m.name() + " runs past the struct's end");
                    }
                } else if (shell instanceof UnionDataType u) {
                    if (m.bitfieldSize() != 0) u.addBitField(dt, m.bitfieldSize(), name, null);
                    else u.add(dt, Math.max(0, dt.getLength()), name, null);
                }
            } catch (IllegalArgumentException | InvalidDataTypeException e) {
                drop(names[t.id()] + "." + m.name() + ": " + e.getMessage());
            }
        }
        if (shell instanceof UnionDataType u && u.getLength() < t.size()) sizeUnion(u, (int) t.size());
    }

    /**
     * A union the compiler rounded up to its alignment (nf_conntrack_proto: 60 bytes of members,
     * 64 in all) is given that alignment; one no alignment explains gets a member of its full size.
     */
    private static void sizeUnion(UnionDataType u, int size) {
        u.setPackingEnabled(true);
        for (int align = 2; align <= 64; align *= 2) {
            u.setExplicitMinimumAlignment(align);
            if (u.getLength() == size) return;
        }
        u.setPackingEnabled(false);
        u.add(new ArrayDataType(Undefined.getUndefinedDataType(1), size, 1), size, "size_padding", "BTF size " + size);
    }
}
