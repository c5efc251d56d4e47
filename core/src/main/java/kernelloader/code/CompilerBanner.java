package kernelloader.code;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The compiler a kernel was built with, as its own version banner names it. The banner is
 * {@code Linux version <release> (<user>@<host>) (<compiler>[, <linker>]) #<n> ...} since 5.8
 * (init/version-timestamp.c, with LINUX_COMPILER = "<cc> <version>, <ld> <version>"), and
 * {@code Linux version <release> (<user>@<host>) (gcc version 4.9.4 (...) ) #1 ...} before.
 */
public final class CompilerBanner {
    private CompilerBanner() {}

    /** The compiler part, e.g. "x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0" or "gcc version 4.4.3 (GCC)"; null if the banner names none. */
    public static String compiler(String banner) {
        if (banner == null) return null;
        int at = banner.indexOf("Linux version ");
        if (at < 0) return null;
        // the parenthesised groups after the release: (user@host) then (compiler...)
        int i = banner.indexOf('(', at);
        int end = banner.indexOf(" #", at);
        if (i < 0) return null;
        String first = group(banner, i);
        if (first == null) return null;
        int j = banner.indexOf('(', i + first.length() + 2);
        if (j < 0 || end >= 0 && j > end) return looksLikeCompiler(first) ? clean(first) : null;
        String second = group(banner, j);
        if (second == null) return null;
        String cc = clean(second);
        // "<cc> <version>, <ld> <version>": the compiler is before the linker
        Matcher m = LINKER.matcher(cc);
        if (m.find()) cc = cc.substring(0, m.start()).trim();
        return cc.isEmpty() ? null : cc;
    }

    private static final Pattern LINKER = Pattern.compile(",\\s*(GNU ld|LLD|ld\\.lld|GNU gold|ld )");

    private static boolean looksLikeCompiler(String s) {
        return s.contains("gcc") || s.contains("clang") || s.contains("GCC");
    }

    private static String clean(String s) {
        return s.replaceAll("\\s+", " ").trim();
    }

    /** The text of the balanced parenthesised group opening at {@code open}, without its parentheses. */
    private static String group(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') depth++;
            else if (c == ')' && --depth == 0) return s.substring(open + 1, i);
            else if (c == '\n') break;
        }
        return null;
    }
}
