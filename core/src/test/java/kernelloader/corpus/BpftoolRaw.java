package kernelloader.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bpftool's raw dump of a kernel's BTF (`bpftool btf dump file vmlinux.btf`, made by
 * .ci/fetch-btf-truth.sh from the -dbg vmlinux), read back as ground truth: each type's kind,
 * name, size and referenced type, and the named entries under it (members, parameters).
 */
public final class BpftoolRaw {
    /** One "[id] KIND 'name' k=v ..." line and the indented lines below it. */
    public record Type(int id, String kind, String name, Map<String, String> fields, List<Entry> entries) {
        public long size() { return Long.parseLong(fields.getOrDefault("size", "0")); }
        public int typeId() { return Integer.parseInt(fields.getOrDefault("type_id", fields.getOrDefault("ret_type_id", "0"))); }
    }

    /** "\t'name' type_id=N ..." */
    public record Entry(String name, int typeId) {}

    private static final Pattern HEAD = Pattern.compile("^\\[(\\d+)\\] (\\S+) '([^']*)'(.*)$");
    private static final Pattern ENTRY = Pattern.compile("^\\t'([^']*)' type_id=(\\d+).*$");
    private static final Pattern FIELD = Pattern.compile("(\\w+)=([^ ,]+)");

    public final Map<Integer, Type> byId = new HashMap<>();
    public final Map<String, List<Type>> byName = new HashMap<>();

    public BpftoolRaw(Path file) throws IOException {
        Type current = null;
        for (String line : Files.readAllLines(file)) {
            Matcher h = HEAD.matcher(line);
            if (h.matches()) {
                Map<String, String> fields = new HashMap<>();
                Matcher f = FIELD.matcher(h.group(4));
                while (f.find()) fields.put(f.group(1), f.group(2));
                current = new Type(Integer.parseInt(h.group(1)), h.group(2), h.group(3), fields, new ArrayList<>());
                byId.put(current.id(), current);
                byName.computeIfAbsent(current.name(), k -> new ArrayList<>()).add(current);
                continue;
            }
            Matcher e = ENTRY.matcher(line);
            if (e.matches() && current != null) current.entries().add(new Entry(e.group(1), Integer.parseInt(e.group(2))));
        }
    }

    /** The only type of {@code kind} named {@code name}, or null if there is none or several. */
    public Type only(String kind, String name) {
        Type found = null;
        for (Type t : byName.getOrDefault(name, List.of())) {
            if (!t.kind().equals(kind)) continue;
            if (found != null) return null;
            found = t;
        }
        return found;
    }

    public static Path truth(Corpus.Kernel k) {
        return DebianBtfTest.truth(k);
    }
}
