package kernelloader.image;

/**
 * One thing a kernel may or may not have (a symbol table, exports, BTF, an embedded .config):
 * its value, or the one-line reason it has none. Every facet of {@code kernelloader.kernel.Kernel}
 * is one of these (the finders below it may return richer outcomes: candidates tried, rejected),
 * so to every face an absence is never a null, and its reason travels to whichever face asks.
 */
public final class Facet<T> {
    private final T value;
    private final String why;

    private Facet(T value, String why) {
        this.value = value;
        this.why = why;
    }

    public static <T> Facet<T> of(T value) {
        if (value == null) throw new IllegalArgumentException("a present facet needs a value");
        return new Facet<>(value, null);
    }

    public static <T> Facet<T> absent(String why) {
        return new Facet<>(null, why == null || why.isBlank() ? "not found" : why.replace('\n', ' '));
    }

    public boolean present() { return value != null; }

    /** The value, or a {@link KernelFormatException} whose message is the reason. */
    public T get() throws KernelFormatException {
        if (value == null) throw new KernelFormatException(why);
        return value;
    }

    /** The value, or null: for faces that show an absence as an empty field. */
    public T orNull() { return value; }

    /** Why there is no value; null when there is one. */
    public String why() { return why; }

    @Override
    public String toString() {
        return value != null ? String.valueOf(value) : "absent: " + why;
    }
}
