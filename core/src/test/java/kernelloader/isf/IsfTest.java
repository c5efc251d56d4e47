package kernelloader.isf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStreamReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import kernelloader.corpus.Corpus;
import kernelloader.corpus.DebianBtfTest;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;
import kernelloader.running.RunningKernelTest;

/**
 * The Volatility 3 symbol table of a real kernel (sid amd64, 7.x): it validates against
 * Volatility's own ISF schema (../shared/data, with Debian's python3-jsonschema); every struct
 * and union's size and every member's offset are bpftool's reading of the kernel's .BTF from
 * the -dbg vmlinux; init_task is typed task_struct; linux_banner's constant_data is the banner;
 * and the table of a dump of that kernel (KASLR on) is the file's, at the same link-time addresses.
 */
@Tag("corpus")
class IsfTest {
    static final String ID = "sid-amd64-amd64";

    static JsonObject isf(Kernel k) throws Exception {
        StringWriter w = new StringWriter(1 << 25);
        KernelOutputs.isf(k, w, "0.1.0");
        return JsonParser.parseString(w.toString()).getAsJsonObject();
    }

    @Test
    void validatesAndHasTheBtfsLayout(@TempDir Path tmp) throws Exception {
        Corpus.Kernel c = Corpus.kernel(ID);
        Kernel k = Kernel.read(c.image(), KernelOptions.DEFAULT);
        JsonObject isf = isf(k);
        Path file = tmp.resolve("isf.json");
        Files.writeString(file, isf.toString());

        // Volatility's schema, by Debian's python3-jsonschema
        Path schema = kernelloader.corpus.Shared.data().resolve("volatility3-isf-schema/schema-" + IsfWriter.FORMAT + ".json");
        assertTrue(Files.exists(schema), schema + " (from ../shared)");
        Process p = new ProcessBuilder("/usr/bin/python3", "-c",
                "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))); print('valid')",
                file.toString(), schema.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "jsonschema (apt-get install python3-jsonschema): " + out);

        // bpftool's reading of the same BTF: each named struct's size and member offsets
        Process b = new ProcessBuilder("bpftool", "-j", "btf", "dump", "file", DebianBtfTest.truth(c).resolve("vmlinux.btf").toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        JsonElement theirs;
        try (var r = new InputStreamReader(b.getInputStream(), StandardCharsets.UTF_8)) {
            theirs = JsonParser.parseReader(r);
        }
        assertEquals(0, b.waitFor());
        JsonObject user = isf.getAsJsonObject("user_types");
        Map<String, Boolean> first = new HashMap<>();
        int structs = 0, members = 0, bitfields = 0;
        for (JsonElement e : theirs.getAsJsonObject().getAsJsonArray("types")) {
            JsonObject t = e.getAsJsonObject();
            String kind = t.get("kind").getAsString();
            if (!kind.equals("STRUCT") && !kind.equals("UNION")) continue;
            String name = t.get("name").getAsString();
            if (name.equals("(anon)") || first.putIfAbsent(name, true) != null) continue;
            JsonObject ours = user.getAsJsonObject(name);
            assertNotNull(ours, name);
            assertEquals(kind.toLowerCase(), ours.get("kind").getAsString(), name);
            assertEquals(t.get("size").getAsLong(), ours.get("size").getAsLong(), name + " size");
            JsonObject fields = ours.getAsJsonObject("fields");
            for (JsonElement me : t.getAsJsonArray("members")) {
                JsonObject m = me.getAsJsonObject();
                String mn = m.get("name").getAsString();
                if (mn.equals("(anon)")) continue;
                JsonObject f = fields.getAsJsonObject(mn);
                assertNotNull(f, name + "." + mn);
                long bits = m.get("bits_offset").getAsLong();
                JsonObject ft = f.getAsJsonObject("type");
                if (m.has("bitfield_size") && m.get("bitfield_size").getAsInt() > 0) {
                    assertEquals("bitfield", ft.get("kind").getAsString(), name + "." + mn);
                    assertEquals(bits, f.get("offset").getAsLong() * 8 + ft.get("bit_position").getAsLong(), name + "." + mn);
                    assertEquals(m.get("bitfield_size").getAsLong(), ft.get("bit_length").getAsLong(), name + "." + mn);
                    bitfields++;
                } else {
                    assertEquals(bits / 8, f.get("offset").getAsLong(), name + "." + mn);
                }
                members++;
            }
            structs++;
        }
        assertTrue(structs > 5000 && members > 50_000 && bitfields > 500, structs + " structs, " + members + " members, " + bitfields + " bitfields");

        JsonObject symbols = isf.getAsJsonObject("symbols");
        JsonObject initTask = symbols.getAsJsonObject("init_task");
        assertEquals("task_struct", initTask.getAsJsonObject("type").get("name").getAsString());
        assertEquals(Long.toUnsignedString(k.kallsyms().get().addressOf("init_task")), initTask.get("address").getAsString());
        String banner = new String(Base64.getDecoder().decode(symbols.getAsJsonObject("linux_banner").get("constant_data").getAsString()),
                StandardCharsets.ISO_8859_1);
        // the bytes at linux_banner, as Volatility scans memory for them
        assertEquals(k.banner().get() + "\n\0", banner);
        assertTrue(banner.startsWith("Linux version 7."), banner);
    }

    /** A dump's table is the file's: the slide VMCOREINFO states taken off every moved address. */
    @Test
    void aDumpsTableIsTheFilesAtLinkTimeAddresses() throws Exception {
        Path boot = RunningKernelTest.boot(ID, 1);
        JsonObject fromFile = isf(Kernel.read(Corpus.kernel(ID).image(), KernelOptions.DEFAULT)).getAsJsonObject("symbols");
        JsonObject fromDump = isf(Kernel.read(boot.resolve("core.elf"), KernelOptions.DEFAULT)).getAsJsonObject("symbols");
        assertEquals(fromFile.size(), fromDump.size());
        int n = 0;
        for (String name : fromFile.keySet()) {
            assertEquals(fromFile.getAsJsonObject(name).get("address").getAsString(), fromDump.getAsJsonObject(name).get("address").getAsString(), name);
            n++;
        }
        assertTrue(n > 100_000, n + " symbols");
    }
}
