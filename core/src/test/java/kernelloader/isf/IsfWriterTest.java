package kernelloader.isf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import kernelloader.btf.Btf;
import kernelloader.btf.BtfBuilder;
import kernelloader.btf.BtfKind;
import kernelloader.kallsyms.KallsymsTable;

/**
 * The ISF of a small BTF shaped like a kernel's: the choices dwarf2json makes (typedefs and
 * qualifiers followed through, anonymous members named by offset, bitfields from their storage
 * unit), the slide taken off, the per-cpu offsets kept, and Volatility's own schema.
 */
class IsfWriterTest {
    static JsonObject write(ByteOrder order, long slide) throws Exception {
        BtfBuilder b = new BtfBuilder(order);
        int u32 = b.integer("unsigned int", 4, 0, 32);
        int i32 = b.integer("int", 4, 1, 32);
        int chr = b.integer("char", 1, 3, 8);
        int u8 = b.integer("unsigned char", 1, 0, 8);
        int pidT = b.ref(BtfKind.TYPEDEF, "pid_t", i32);
        int cpid = b.ref(BtfKind.CONST, "", pidT);
        int fwdList = b.type(BtfKind.FWD, "list_head", false, 0, 0);
        int pList = b.ref(BtfKind.PTR, "", fwdList);
        int list = b.composite(BtfKind.STRUCT, "list_head", 16, "next", pList, 0, 0, "prev", pList, 64, 0);
        int comm = b.array(chr, u32, 16);
        int inner = b.composite(BtfKind.UNION, "", 8, "a", u32, 0, 0, "b", u8, 0, 0);
        int state = b.enumeration("task_state", 4, false, "RUNNING", 0, "SLEEPING", 1);
        // pid; three bitfields in one unsigned int; an anonymous union; tasks; comm; state
        int task = b.composite(BtfKind.STRUCT, "task_struct", 64, "pid", cpid, 0, 0, "in_execve", u32, 32, 1,
                "in_iowait", u32, 33, 1, "flags3", u32, 36, 3, "", inner, 64, 0, "tasks", list, 128, 0,
                "comm", comm, 256, 0, "state", state, 384, 0);
        int proto = b.prototype(i32);
        int fp = b.ref(BtfKind.PTR, "", proto);
        b.composite(BtfKind.STRUCT, "ops", 8, "open", fp, 0, 0);
        int runqueue = b.variable("runqueues", task, 1);
        b.datasec(".data..percpu", 64, runqueue, 0x36040, 64);
        byte[] blob = b.build();
        Btf btf = Btf.parse(blob, blob.length, 0, blob.length);
        long text = 0xffffffff9d400000L;
        KallsymsTable t = KallsymsTable.of(KallsymsTable.Origin.SYMBOLS_FILE, 64, order,
                new long[] {0x36040, text, text + 0x10, text + 0x2000000, text + 0x2000100, text + 0x2000200},
                new byte[] {'A', 'T', 't', 'D', 'D', 't'},
                new String[] {"runqueues", "_text", "dup", "init_task", "linux_banner", "dup"}, "test");
        byte[] banner = "Linux version 6.12.1 (x@y) #1 SMP\n\0".getBytes(StandardCharsets.ISO_8859_1);
        StringWriter w = new StringWriter();
        IsfWriter.Summary s = new IsfWriter(btf, t, slide, banner, new IsfWriter.Source("kallsyms of test", null),
                new IsfWriter.Source(".BTF of test", null), "0.1.0").write(w);
        assertEquals(5, s.symbols());
        return JsonParser.parseString(w.toString()).getAsJsonObject();
    }

    @Test
    void dwarf2jsonsChoices(@TempDir Path tmp) throws Exception {
        JsonObject isf = write(ByteOrder.LITTLE_ENDIAN, 0x1c400000L);
        JsonObject task = isf.getAsJsonObject("user_types").getAsJsonObject("task_struct");
        assertEquals(64, task.get("size").getAsInt());
        JsonObject f = task.getAsJsonObject("fields");
        // const pid_t → int
        assertEquals("{\"kind\":\"base\",\"name\":\"int\"}", f.getAsJsonObject("pid").get("type").toString());
        JsonObject in3 = f.getAsJsonObject("flags3");
        assertEquals(4, in3.get("offset").getAsInt());
        assertEquals("bitfield", in3.getAsJsonObject("type").get("kind").getAsString());
        assertEquals(4, in3.getAsJsonObject("type").get("bit_position").getAsInt());
        assertEquals(3, in3.getAsJsonObject("type").get("bit_length").getAsInt());
        JsonObject anon = f.getAsJsonObject("unnamed_field_8");
        assertTrue(anon.get("anonymous").getAsBoolean());
        String anonName = anon.getAsJsonObject("type").get("name").getAsString();
        assertEquals("union", isf.getAsJsonObject("user_types").getAsJsonObject(anonName).get("kind").getAsString());
        assertEquals("{\"kind\":\"array\",\"count\":16,\"subtype\":{\"kind\":\"base\",\"name\":\"char\"}}",
                f.getAsJsonObject("comm").get("type").toString());
        // a pointer to a declaration names the struct the BTF defines
        assertEquals("{\"kind\":\"pointer\",\"subtype\":{\"kind\":\"struct\",\"name\":\"list_head\"}}",
                isf.getAsJsonObject("user_types").getAsJsonObject("list_head").getAsJsonObject("fields").getAsJsonObject("next")
                        .get("type").toString());
        assertEquals("{\"kind\":\"pointer\",\"subtype\":{\"kind\":\"function\"}}",
                isf.getAsJsonObject("user_types").getAsJsonObject("ops").getAsJsonObject("fields").getAsJsonObject("open").get("type").toString());
        JsonObject e = isf.getAsJsonObject("enums").getAsJsonObject("task_state");
        assertEquals("unsigned int", e.get("base").getAsString());
        assertEquals(1, e.getAsJsonObject("constants").get("SLEEPING").getAsInt());
        assertEquals("char", isf.getAsJsonObject("base_types").getAsJsonObject("char").get("kind").getAsString());
        assertEquals(8, isf.getAsJsonObject("base_types").getAsJsonObject("pointer").get("size").getAsInt());

        JsonObject sym = isf.getAsJsonObject("symbols");
        // the slide off every address from _text on; the per-cpu offset as it is
        assertEquals(Long.toUnsignedString(0xffffffff81000000L), sym.getAsJsonObject("_text").get("address").getAsString());
        assertEquals(Long.toUnsignedString(0xffffffff83000000L), sym.getAsJsonObject("init_task").get("address").getAsString());
        assertEquals("task_struct", sym.getAsJsonObject("init_task").getAsJsonObject("type").get("name").getAsString());
        assertEquals(0x36040, sym.getAsJsonObject("runqueues").get("address").getAsLong());
        assertEquals("task_struct", sym.getAsJsonObject("runqueues").getAsJsonObject("type").get("name").getAsString());
        // one address per name: the first of two statics
        assertEquals(Long.toUnsignedString(0xffffffff81000010L), sym.getAsJsonObject("dup").get("address").getAsString());
        assertEquals("TGludXggdmVyc2lvbiA2LjEyLjEgKHhAeSkgIzEgU01QCgA=", sym.getAsJsonObject("linux_banner").get("constant_data").getAsString());

        // Volatility's schema, by Debian's python3-jsonschema
        Path file = tmp.resolve("isf.json");
        Files.writeString(file, isf.toString());
        Path schema = kernelloader.corpus.Shared.data().resolve("volatility3-isf-schema/schema-" + IsfWriter.FORMAT + ".json");
        Process p = new ProcessBuilder("/usr/bin/python3", "-c",
                "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
                file.toString(), schema.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "jsonschema (apt-get install python3-jsonschema; the schema from ../shared): " + out);
    }

    /** Big-endian bitfields: BTF counts from the storage unit's most significant bit, Volatility from its least. */
    @Test
    void bigEndianBitfields() throws Exception {
        JsonObject isf = write(ByteOrder.BIG_ENDIAN, 0);
        JsonObject t = isf.getAsJsonObject("user_types").getAsJsonObject("task_struct").getAsJsonObject("fields")
                .getAsJsonObject("flags3").getAsJsonObject("type");
        assertEquals(32 - 4 - 3, t.get("bit_position").getAsInt());
        assertFalse(isf.getAsJsonObject("base_types").getAsJsonObject("int").get("endian").getAsString().equals("little"));
    }
}
