package kernelloader.verify;

import java.util.ArrayList;
import java.util.List;

/**
 * The checks a reading of a kernel passed or failed, and the confidence they give it.
 *
 * <p>Confidence: "certain" when the exports (an independent table of names and addresses) and
 * the banner or the image's pointers confirm the addresses, "strong" when nothing failed and at
 * least one check that reads content (banner, exports, pointers) passed, "weak" when only the structure held
 * (nothing in the image could confirm it), "refused" when a check failed.
 */
public record Verification(List<Check> checks) {
    public Verification {
        checks = List.copyOf(checks);
    }

    public boolean refused() {
        return checks.stream().anyMatch(Check::failed);
    }

    public String confidence() {
        if (refused()) return "refused";
        boolean banner = passed("banner"), exports = passed("exports");
        if (exports && (banner || passed("pointers"))) return "certain";
        if (banner || exports || passed("pointers")) return "strong";
        return "weak";
    }

    /**
     * Whether any check that reads content passed (banner, text, pointers, exports, a symbols
     * file): a table that did not come from kallsyms is only taken when the image confirms it.
     */
    public boolean confirmedByContent() {
        for (String n : new String[] {"banner", "text", "pointers", "exports", "symbols file"}) if (passed(n)) return true;
        return false;
    }

    /** The failed checks in one line, for the refusal. */
    public String failure() {
        List<String> f = new ArrayList<>();
        for (Check c : checks) if (c.failed()) f.add(c.name() + ": " + c.detail());
        return String.join("; ", f);
    }

    /** This verification with one more check. */
    public Verification with(Check c) {
        List<Check> all = new ArrayList<>(checks);
        all.removeIf(x -> x.name().equals(c.name()));
        all.add(c);
        return new Verification(all);
    }

    private boolean passed(String name) {
        for (Check c : checks) if (c.name().equals(name)) return c.passed();
        return false;
    }
}
