package kernelloader.btf;

/**
 * The kinds of a BTF type, numbered as in include/uapi/linux/btf.h (BTF_KIND_*). The names are
 * the ones bpftool prints, so our dumps read like its.
 */
public enum BtfKind {
    UNKN, INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT,
    FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64;

    private static final BtfKind[] BY_NUMBER = values();

    /** The kind numbered {@code n}, or null for a number this reader does not know. */
    public static BtfKind of(int n) {
        return n > 0 && n < BY_NUMBER.length ? BY_NUMBER[n] : null;
    }

    /** Kinds that only qualify or rename another type: followed through to reach a definition. */
    public boolean isModifier() {
        return this == CONST || this == VOLATILE || this == RESTRICT || this == TYPE_TAG || this == TYPEDEF;
    }

    public boolean isComposite() { return this == STRUCT || this == UNION; }

    public boolean isEnum() { return this == ENUM || this == ENUM64; }
}
