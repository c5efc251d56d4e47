package kernelloader.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import kernelloader.btf.Btf;
import kernelloader.btf.BtfKind;
import kernelloader.btf.BtfLocator;
import kernelloader.btf.BtfRawDump;
import kernelloader.btf.BtfType;
import kernelloader.btf.CHeaderWriter;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/**
 * BTF of every corpus kernel built with CONFIG_DEBUG_INFO_BTF, read from the image as shipped,
 * against Debian's own tools on the matching -dbg vmlinux (.ci/fetch-btf-truth.sh): the blob
 * is byte for byte the vmlinux's .BTF section, our raw dump equals bpftool's line for line
 * (every type's kind, name, size, member offsets, values), and our C header compiles — with
 * the kernel's layout, on the kernels gcc here can lay out (amd64).
 */
@Tag("corpus")
public class DebianBtfTest {
    static List<Corpus.Kernel> kernels() {
        List<Corpus.Kernel> out = new ArrayList<>();
        for (Corpus.Kernel k : Corpus.kernels()) {
            try {
                Path config = k.dir.resolve("config");
                if (Files.exists(config) && Files.readAllLines(config).contains("CONFIG_DEBUG_INFO_BTF=y")) out.add(k);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    public static Path truth(Corpus.Kernel k) {
        String root = System.getProperty("kernel.btf", System.getenv().getOrDefault("BTF_TRUTH", System.getProperty("user.home") + "/.cache/kernel-btf"));
        Path d = Path.of(root, k.id);
        if (!Files.exists(d.resolve("vmlinux.btf"))) {
            throw new IllegalStateException("no BTF ground truth for " + k.id + " under " + d + ": run .ci/fetch-btf-truth.sh (.ci/run does)");
        }
        return d;
    }

    private static Btf load(Corpus.Kernel k, String[] how) throws Exception {
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        BtfLocator.Found found = m.btf().get();
        // the header search alone finds the same blob
        BtfLocator.Outcome scanned = BtfLocator.find(m.image(), null, null);
        assertNotNull(scanned.found());
        assertEquals(found.offset(), scanned.found().offset(), "header search and " + found.how() + " disagree");
        byte[] ours = Arrays.copyOfRange(m.image().data(), found.offset(), found.offset() + found.btf().byteSize());
        assertArrayEquals(Files.readAllBytes(truth(k).resolve("vmlinux.btf")), ours, "the .BTF bytes differ from the -dbg vmlinux's section");
        how[0] = found.how();
        return found.btf();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void rawDumpEqualsBpftools(Corpus.Kernel k) throws Exception {
        String[] how = new String[1];
        Btf btf = load(k, how);
        StringWriter w = new StringWriter(1 << 24);
        BtfRawDump.text(btf, w);
        List<String> ours = w.toString().lines().toList();
        List<String> bpftool = Files.readAllLines(truth(k).resolve("bpftool.raw"));
        int n = Math.min(ours.size(), bpftool.size());
        for (int i = 0; i < n; i++) {
            assertEquals(bpftool.get(i), ours.get(i), "line " + (i + 1) + " of the raw dump");
        }
        assertEquals(bpftool.size(), ours.size(), "lines in the raw dump");
        // and --json is bpftool -j's JSON of the same bytes, field for field
        Process p = new ProcessBuilder("bpftool", "-j", "btf", "dump", "file", truth(k).resolve("vmlinux.btf").toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        JsonElement theirs;
        try (var r = new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)) {
            theirs = JsonParser.parseReader(r);
        }
        assertEquals(0, p.waitFor());
        // bpftool -j sign-extends a 32-bit unsigned enum value to 64 bits (0xffffffff prints as
        // 18446744073709551615; its text dump says 4294967295): ours says what the 32 bits hold
        for (JsonElement t : theirs.getAsJsonObject().getAsJsonArray("types")) {
            JsonObject o = t.getAsJsonObject();
            if (!o.get("kind").getAsString().equals("ENUM") || !o.get("encoding").getAsString().equals("UNSIGNED")) continue;
            for (JsonElement v : o.getAsJsonArray("values")) {
                BigInteger val = v.getAsJsonObject().get("val").getAsBigInteger();
                v.getAsJsonObject().addProperty("val", val.and(BigInteger.valueOf(0xffffffffL)));
            }
        }
        StringWriter jw = new StringWriter(1 << 24);
        BtfRawDump.json(btf, jw);
        JsonElement oursJson = JsonParser.parseString(jw.toString());
        assertTrue(theirs.equals(oursJson), "our --json differs from bpftool -j's");
        long types = bpftool.stream().filter(l -> l.startsWith("[")).count();
        assertEquals(types, btf.types().size());
        assertTrue(types > 50_000, types + " types");
        System.out.printf("%s: BTF by %s, %d bytes, %d types, %s%n", k.id, how[0], btf.byteSize(), types, btf.kindCounts());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void cHeaderCompiles(Corpus.Kernel k, @TempDir Path tmp) throws Exception {
        Btf btf = load(k, new String[1]);
        Path header = tmp.resolve("vmlinux.h");
        try (Writer w = Files.newBufferedWriter(header, StandardCharsets.UTF_8)) {
            CHeaderWriter.write(btf, w);
        }
        Gcc r = gcc(tmp, header);
        assertEquals(0, r.exit, "gcc -fsyntax-only on our header: " + r.firstErrors);
        // no warning under -Wall -Werror, among them those that change what the header means: a
        // struct first named inside a prototype's parameter list is a new type local to it, not
        // the kernel's; a struct embedded by name (-fms-extensions, 6.19+) declares nothing in C
        Gcc warned = gcc(tmp, header, "-Wall", "-Werror");
        List<String> meaning = warned.output().lines().filter(l -> l.contains("declared inside parameter list")).limit(3).toList();
        assertEquals(List.of(), meaning, "gcc on our header");
        assertEquals(0, warned.exit, "gcc -Wall -Werror on our header: " + warned.firstErrors);

        // bpftool's header of the same BTF defines the same named structs, unions, enums and typedefs
        String ourText = Files.readString(header);
        String theirs = Files.readString(truth(k).resolve("bpftool.h"));
        for (String kind : List.of("struct", "union", "enum", "typedef")) {
            assertEquals(definitions(theirs, kind), definitions(ourText, kind), kind + " definitions in bpftool's header and ours");
        }

        {
            // every named struct's size and member offsets, as gcc lays out our header, must be the kernel's
            Path asserts = tmp.resolve("layout.c");
            int n = writeLayoutAsserts(btf, header, asserts);
            Gcc layout = gcc(tmp, asserts, "-fms-extensions");
            assertEquals(0, layout.exit, n + " layout assertions: " + layout.firstErrors);
            assertTrue(n > 30_000, n + " layout assertions");
        }
    }

    /** Names defined at the top level of a header ("struct foo {", "typedef ... foo;"), counted. */
    private static Map<String, Integer> definitions(String header, String kind) {
        Map<String, Integer> m = new HashMap<>();
        // arm64's built-in __Poly types get stand-ins for other machines' compilers: bpftool writes those it uses, we all, guarded
        header = header.replaceAll("(?m)^typedef [a-z_0-9 ]+ __Poly[0-9]+_t;$", "");
        for (String line : header.split("\n")) {
            if (kind.equals("typedef")) {
                if (line.startsWith("typedef ")) m.merge("typedef", 1, Integer::sum);
            } else if (line.startsWith(kind + " ") && (line.endsWith(" {") || line.endsWith(" {};")) && !line.startsWith(kind + " {")) {
                // named definitions; anonymous enums bpftool writes inside structs, we on their own
                // repeats of a name are suffixed ___2, ___3 in the order each tool meets them
                String name = line.substring(kind.length() + 1, line.lastIndexOf(" {"));
                m.merge(name.replaceAll("___[0-9]+$", ""), 1, Integer::sum);
            }
        }
        return m;
    }

    /** _Static_asserts of sizeof and offsetof for every uniquely named struct/union and its named members. */
    private static int writeLayoutAsserts(Btf btf, Path header, Path out) throws IOException {
        Map<String, Integer> tagCount = new HashMap<>();
        for (BtfType t : btf.types()) {
            if ((t.kind().isComposite() || (t.kind().isEnum() && t.vlen() > 0)) && !t.anonymous()) tagCount.merge(t.name(), 1, Integer::sum);
        }
        StringBuilder sb = new StringBuilder("#include \"" + header.getFileName() + "\"\n");
        int n = 0;
        Map<Integer, Boolean> hostAbi = new HashMap<>();
        for (BtfType t : btf.types()) {
            if (!t.kind().isComposite() || t.anonymous() || tagCount.getOrDefault(t.name(), 0) != 1) continue;
            // gcc here lays these out by the host's ABI, not the kernel's (s390x aligns __int128 to 8, its va_list is 32 bytes)
            if (hostDependent(btf, t.id(), hostAbi, 0)) continue;
            String c = (t.kind() == BtfKind.UNION ? "union " : "struct ") + t.name();
            sb.append("_Static_assert(sizeof(").append(c).append(") == ").append(t.size()).append(", \"").append(t.name()).append("\");\n");
            n++;
            for (BtfType.Member m : t.members()) {
                if (m.name().isEmpty() || m.bitfieldSize() != 0) continue;
                sb.append("_Static_assert(__builtin_offsetof(").append(c).append(", ").append(m.name()).append(") == ")
                  .append(m.bitOffset() / 8).append(", \"").append(t.name()).append('.').append(m.name()).append("\");\n");
                n++;
            }
        }
        Files.writeString(out, sb);
        return n;
    }

    /** Whether a type holds, by value, a 16-byte integer or a va_list: what a compiler lays out by its own machine's rules. */
    private static boolean hostDependent(Btf btf, int id, Map<Integer, Boolean> memo, int depth) {
        BtfType t = btf.type(id);
        if (t == null || depth > 100) return false;
        Boolean known = memo.get(id);
        if (known != null) return known;
        memo.put(id, false);
        boolean r = switch (t.kind()) {
            case INT -> t.size() == 16;
            case TYPEDEF -> t.name().equals("__builtin_va_list") || hostDependent(btf, t.type(), memo, depth + 1);
            case CONST, VOLATILE, RESTRICT, TYPE_TAG, ARRAY -> hostDependent(btf, t.type(), memo, depth + 1);
            case STRUCT, UNION -> t.members().stream().anyMatch(m -> hostDependent(btf, m.type(), memo, depth + 1));
            default -> false;
        };
        memo.put(id, r);
        return r;
    }

    private record Gcc(int exit, String firstErrors, String output) {}

    /** gcc -fsyntax-only, warnings off unless {@code flags} ask for some. */
    private static Gcc gcc(Path dir, Path file, String... flags) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("gcc", "-fsyntax-only"));
        if (flags.length == 0 || !flags[0].startsWith("-W")) cmd.add("-w");
        cmd.addAll(List.of(flags));
        cmd.add(file.toString());
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        String errors = output.lines().filter(l -> l.contains("error")).limit(5).reduce("", (a, b) -> a + b + " | ");
        return new Gcc(p.exitValue(), errors, output);
    }
}
