package kernelloader.verify;

/**
 * One check of a reading against the image's content: what was looked at, and what it showed.
 *
 * @param name    short and stable ("banner", "text", "pointers", "word size", "base", "exports"):
 *                what `info --json` keys it by
 * @param verdict passed, failed, or not applicable (the image holds nothing to check it by)
 * @param detail  one sentence with the figures
 */
public record Check(String name, Verdict verdict, String detail) {
    public enum Verdict { PASSED, FAILED, NOT_APPLICABLE }

    static Check passed(String name, String detail) { return new Check(name, Verdict.PASSED, detail); }
    static Check failed(String name, String detail) { return new Check(name, Verdict.FAILED, detail); }
    static Check notApplicable(String name, String detail) { return new Check(name, Verdict.NOT_APPLICABLE, detail); }

    public boolean failed() { return verdict == Verdict.FAILED; }
    public boolean passed() { return verdict == Verdict.PASSED; }

    @Override
    public String toString() {
        return name + " " + verdict.name().toLowerCase().replace('_', ' ') + ": " + detail;
    }
}
