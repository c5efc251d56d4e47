package kernelloader.btf;

import java.util.List;

/**
 * One entry of the BTF type section: struct btf_type (name_off, info, size/type) and the data
 * its kind appends (include/uapi/linux/btf.h). Fields a kind does not have are zero or empty.
 *
 * @param id        the type's number; 0 is void and never stored
 * @param name      its name, "" when anonymous
 * @param kindFlag  bit 31 of info: bitfield encoding for STRUCT/UNION, union for FWD,
 *                  signedness for ENUM/ENUM64, attribute-style for DECL_TAG/TYPE_TAG
 * @param vlen      bits 0-15 of info: members, values, parameters or variables (FUNC: linkage)
 * @param size      size in bytes for INT, ENUM, ENUM64, STRUCT, UNION, DATASEC, FLOAT
 * @param type      the referenced type for PTR, TYPEDEF, modifiers, FUNC, VAR, DECL_TAG,
 *                  TYPE_TAG; the return type of FUNC_PROTO; the element type of ARRAY
 */
public record BtfType(int id, BtfKind kind, String name, boolean kindFlag, int vlen, long size, int type,
                      IntEncoding intEncoding, ArrayInfo array, List<Member> members, List<EnumValue> values,
                      List<Param> params, List<VarSecInfo> vars, int linkage, int componentIndex) {

    /** INT's extra word: BTF_INT_ENCODING (SIGNED 1, CHAR 2, BOOL 4), bit offset and bit count. */
    public record IntEncoding(int encoding, int bitOffset, int bits) {
        public static final int SIGNED = 1, CHAR = 2, BOOL = 4;
        public boolean signed() { return (encoding & SIGNED) != 0; }
    }

    /** struct btf_array. */
    public record ArrayInfo(int indexType, long elements) {}

    /**
     * struct btf_member, decoded: with kind_flag set the offset word carries the bitfield size
     * in its top 8 bits and the bit offset in the low 24.
     */
    public record Member(String name, int type, long bitOffset, int bitfieldSize) {}

    /** struct btf_enum or btf_enum64: a name and its value (as the enum's signedness says). */
    public record EnumValue(String name, long value) {}

    /** struct btf_param: a parameter's name ("" in prototypes without names) and type (0 = "..."). */
    public record Param(String name, int type) {}

    /** struct btf_var_secinfo: one variable of a DATASEC, at an offset into the section. */
    public record VarSecInfo(int type, long offset, long size) {}

    public static final int LINKAGE_STATIC = 0, LINKAGE_GLOBAL = 1, LINKAGE_EXTERN = 2;

    public boolean anonymous() { return name.isEmpty(); }

    /** For ENUM/ENUM64: values are signed (kind_flag, since 6.0; older kernels leave it clear). */
    public boolean signedEnum() { return kindFlag; }

    /** For FWD: declares a union rather than a struct. */
    public boolean forwardUnion() { return kindFlag; }
}
