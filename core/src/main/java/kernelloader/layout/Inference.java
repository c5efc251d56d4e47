package kernelloader.layout;

/**
 * A value the core inferred, with the evidence for it: the core never guesses silently.
 *
 * @param confidence "certain" (the image states it), "strong" (consistent evidence from
 *                   content), "weak" (a heuristic), or "given" (a user override)
 */
public record Inference<T>(T value, String evidence, String confidence) {
    public static <T> Inference<T> certain(T v, String evidence) { return new Inference<>(v, evidence, "certain"); }
    public static <T> Inference<T> strong(T v, String evidence) { return new Inference<>(v, evidence, "strong"); }
    public static <T> Inference<T> weak(T v, String evidence) { return new Inference<>(v, evidence, "weak"); }
    public static <T> Inference<T> given(T v) { return new Inference<>(v, "given by the user", "given"); }
}
