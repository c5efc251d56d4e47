package kernelloader.layout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import kernelloader.image.KernelImage;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsTable;

/**
 * Which architecture a kernel is for: what an ELF header or container header states, else what
 * the symbol names say (every architecture's kernel has its own arch_-specific prefixes, hundreds
 * of them: x86_, arm64_, riscv_, s390_, ...).
 */
public final class ArchitectureDetector {
    private ArchitectureDetector() {}

    public static Inference<Architecture> detect(KernelImage img, KallsymsTable k) {
        Census census = census(k);
        if (img.elf() != null) {
            Architecture a = Architecture.ofElfMachine(img.elf().machine());
            if (a != null) return Inference.certain(a, "ELF e_machine " + img.elf().machine() + agreement(a, census));
        }
        List<Layer> layers = img.layers();
        for (int i = layers.size() - 1; i >= 0; i--) {
            Architecture a = Architecture.ofHint(layers.get(i).arch());
            if (a == null) continue;
            // a container header names the architecture of what it holds; a table of another
            // architecture's symbols is another kernel in the same file (a flash dump holding
            // a zImage and, after it, a RISC-V Image): the symbols decide
            if (strong(census) && census.best != a) {
                return Inference.strong(census.best, census.describe() + "; the " + layers.get(i).kind() + " header before it names "
                        + a.displayName() + ": another kernel's");
            }
            return Inference.certain(a, layers.get(i).kind() + " header" + agreement(a, census));
        }
        if (strong(census)) return Inference.strong(census.best, census.describe());
        return census.best == null ? null : Inference.weak(census.best, census.describe());
    }

    /** Symbol names that name one architecture clearly: 10+ prefixed names, 3x the next. */
    private static boolean strong(Census c) {
        return c.best != null && c.bestCount >= 10 && c.bestCount >= 3 * c.secondCount;
    }

    private static String agreement(Architecture a, Census c) {
        if (c.best == null || c.bestCount < 10) return "";
        return c.best == a ? "; symbol names agree (" + c.describe() + ")" : "; but symbol names suggest " + c.describe();
    }

    private record Census(Architecture best, int bestCount, int secondCount) {
        String describe() {
            return bestCount + " symbols with " + String.join("/", best.symbolPrefixes()) + " prefixes"
                    + (secondCount > 0 ? " (next best " + secondCount + ")" : "");
        }
    }

    /** The prefixes by their first character: a name is compared only with those it could start (every read runs this on 200k names). */
    private static final Map<Character, List<Object[]>> BY_FIRST = new HashMap<>();

    static {
        for (Architecture a : Architecture.values()) {
            for (String p : a.symbolPrefixes()) BY_FIRST.computeIfAbsent(p.charAt(0), c -> new ArrayList<>()).add(new Object[] {p, a});
        }
    }

    private static Census census(KallsymsTable k) {
        int[] counts = new int[Architecture.values().length];
        for (int i = 0; i < k.size(); i++) {
            String n = k.name(i);
            if (n.isEmpty()) continue;
            List<Object[]> candidates = BY_FIRST.get(n.charAt(0));
            if (candidates == null) continue;
            for (Object[] pa : candidates) {
                if (n.startsWith((String) pa[0])) counts[((Architecture) pa[1]).ordinal()]++;
            }
        }
        Architecture best = null;
        int b = 0, second = 0;
        for (Architecture a : Architecture.values()) {
            int c = counts[a.ordinal()];
            if (c > b) {
                second = b;
                b = c;
                best = a;
            } else if (c > second) {
                second = c;
            }
        }
        return new Census(best, b, second);
    }
}
