package kernelloader.module;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A module's .modinfo: the "key=value" strings MODULE_INFO writes, NUL-separated (name, license,
 * depends, vermagic, import_ns, alias, parm, ...); a key may repeat.
 */
public final class ModInfo {
    private final Map<String, List<String>> values;

    private ModInfo(Map<String, List<String>> values) {
        this.values = values;
    }

    static ModInfo parse(byte[] data, int offset, int length) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        int end = offset + length, p = offset;
        while (p < end) {
            int q = p;
            while (q < end && data[q] != 0) q++;
            String s = new String(data, p, q - p, StandardCharsets.ISO_8859_1);
            int eq = s.indexOf('=');
            if (eq > 0) m.computeIfAbsent(s.substring(0, eq), k -> new ArrayList<>()).add(s.substring(eq + 1));
            p = q + 1;
        }
        return new ModInfo(m);
    }

    static final ModInfo NONE = new ModInfo(Map.of());

    /** The first value of {@code key}, or null. */
    public String get(String key) {
        List<String> v = values.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** Every value of {@code key} (import_ns, alias, parm, ...). */
    public List<String> all(String key) {
        return Collections.unmodifiableList(values.getOrDefault(key, List.of()));
    }

    /** The modules this one needs, as depends= names them (modpost: the ones exporting its imports). */
    public List<String> depends() {
        String d = get("depends");
        if (d == null || d.isEmpty()) return List.of();
        return List.of(d.split(","));
    }

    /** Every key and its values, in the module's order. */
    public Map<String, List<String>> entries() { return Collections.unmodifiableMap(values); }
}
