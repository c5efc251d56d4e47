package kernelloader.btf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;

/**
 * BTF blobs written type by type (BtfBuilder), for what the corpus does not have: every kind in
 * both byte orders and split BTF, each held against Debian's bpftool reading the same bytes; and
 * hostile blobs — cut, looping, absurdly deep — which must give one-line errors, never a crash.
 */
class BtfTest {

    @Test
    void everyKindParsesTheSameInBothByteOrders() throws Exception {
        Btf le = Btf.parse(BtfBuilder.everyKind(ByteOrder.LITTLE_ENDIAN), BtfBuilder.everyKind(ByteOrder.LITTLE_ENDIAN).length, 0, Long.MAX_VALUE);
        byte[] beBytes = BtfBuilder.everyKind(ByteOrder.BIG_ENDIAN);
        Btf be = Btf.parse(beBytes, beBytes.length, 0, Long.MAX_VALUE);
        assertEquals(ByteOrder.BIG_ENDIAN, be.order());
        assertEquals(raw(le), raw(be));
        for (BtfKind k : BtfKind.values()) {
            if (k != BtfKind.UNKN) assertTrue(le.kindCounts().containsKey(k), k + " in the blob");
        }
        BtfType neg = le.named("neg", BtfKind.ENUM64);
        assertEquals(Long.MIN_VALUE, neg.values().get(0).value());
        BtfType rec = le.named("record", BtfKind.STRUCT);
        assertEquals(3, rec.members().get(1).bitfieldSize());
        assertEquals(1, rec.members().get(1).bitOffset());
    }

    @ParameterizedTest
    @ValueSource(strings = {"LITTLE_ENDIAN", "BIG_ENDIAN"})
    void rawDumpEqualsBpftoolsOnTheSameBytes(String orderName, @TempDir Path tmp) throws Exception {
        ByteOrder order = orderName.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        byte[] blob = BtfBuilder.everyKind(order);
        Path f = tmp.resolve("every.btf");
        Files.write(f, blob);
        String bpftool = run(tmp, "bpftool", "btf", "dump", "file", f.toString());
        assertEquals(bpftool, raw(Btf.parse(blob, blob.length, 0, Long.MAX_VALUE)));
    }

    @Test
    void splitBtfContinuesItsBase(@TempDir Path tmp) throws Exception {
        BtfBuilder base = new BtfBuilder(ByteOrder.LITTLE_ENDIAN);
        int s32 = base.integer("int", 4, BtfType.IntEncoding.SIGNED, 32);
        int dev = base.composite(BtfKind.STRUCT, "device", 8, "id", s32, 0, 0, "refs", s32, 32, 0);
        byte[] baseBlob = base.build();
        // a module's BTF: ids after the base's, string offsets after the base's strings, reusing "int" and "device"
        BtfBuilder mod = new BtfBuilder(ByteOrder.LITTLE_ENDIAN, base.lastId() + 1, base.stringBytes());
        int pDev = mod.ref(BtfKind.PTR, "", dev);
        int priv = mod.composite(BtfKind.STRUCT, "mydrv_priv", 16, "dev", pDev, 0, 0, "irq", s32, 64, 0);
        int proto = mod.prototype(s32, "p", mod.ref(BtfKind.PTR, "", priv));
        mod.function("mydrv_probe", proto, BtfType.LINKAGE_GLOBAL);
        byte[] modBlob = mod.build();

        Btf b = Btf.parse(baseBlob, baseBlob.length, 0, Long.MAX_VALUE);
        Btf split = Btf.parse(modBlob, modBlob.length, 0, Long.MAX_VALUE, b);
        assertEquals(base.lastId() + 1, split.firstId());
        assertEquals("device", split.type(split.type(pDev).type()).name());
        assertEquals("mydrv_priv", split.type(priv).name());

        Path bf = tmp.resolve("vmlinux.btf"), mf = tmp.resolve("mydrv.btf");
        Files.write(bf, baseBlob);
        Files.write(mf, modBlob);
        assertEquals(run(tmp, "bpftool", "btf", "dump", "file", mf.toString(), "--base-btf", bf.toString()), raw(split));
        // with no base it is not a blob of its own: its names and ids point outside it
        assertThrows(KernelFormatException.class, () -> Btf.parse(modBlob, modBlob.length, 0, Long.MAX_VALUE));
    }

    @Test
    void cHeaderOfEveryKindCompilesWithTheLayout(@TempDir Path tmp) throws Exception {
        byte[] blob = BtfBuilder.everyKind(ByteOrder.LITTLE_ENDIAN);
        StringWriter w = new StringWriter();
        CHeaderWriter.write(Btf.parse(blob, blob.length, 0, Long.MAX_VALUE), w);
        String h = w.toString();
        assertTrue(h.contains("typedef int (*handler_t)(int, const char *, ...);"), h);
        assertTrue(h.contains("struct opaque;") && h.contains("union opaque_u;"), h);
        assertTrue(h.contains("BIG_MAX = 18446744073709551615ULL"), h);
        assertTrue(h.contains("NEG_MIN = (-9223372036854775807LL - 1)"), h);
        assertTrue(h.contains("} __attribute__((packed));"), "a one-byte enum is packed: " + h);
        Files.writeString(tmp.resolve("every.h"), h);
        Files.writeString(tmp.resolve("check.c"), "#include \"every.h\"\n"
                + "_Static_assert(sizeof(struct record) == 72, \"size\");\n"
                + "_Static_assert(__builtin_offsetof(struct record, user) == 64, \"user\");\n"
                + "_Static_assert(__builtin_offsetof(struct record, name) == 8, \"name\");\n"
                + "_Static_assert(__builtin_offsetof(struct record, fn) == 40, \"fn\");\n"
                + "_Static_assert(__builtin_offsetof(struct record, f) == 56, \"f\");\n"
                + "_Static_assert(sizeof(enum small_flags) == 1, \"packed enum\");\n");
        run(tmp, "gcc", "-fsyntax-only", "-Werror", "check.c");
    }

    @Test
    void foundByHeaderAnywhereInAnImage() throws Exception {
        byte[] blob = BtfBuilder.everyKind(ByteOrder.BIG_ENDIAN);
        byte[] img = new byte[100_003];
        new Random(7).nextBytes(img);
        System.arraycopy(blob, 0, img, 12_345, blob.length);   // no alignment
        BtfLocator.Outcome o = BtfLocator.find(new KernelImage(img, img.length, List.of(), null), null, null);
        assertNotNull(o.found(), String.join("; ", o.tried()));
        assertEquals(12_345, o.found().offset());
        assertEquals("header search", o.found().how());

        BtfLocator.Outcome none = BtfLocator.find(new KernelImage(new byte[70_000], 70_000, List.of(), null), null, null);
        assertEquals(null, none.found());
        assertTrue(none.failure("x").startsWith("x: no BTF found (searched 70000 bytes for a BTF header: 0 magic(s)"), none.failure("x"));
    }

    /** Every prefix of a blob, and a blob with each byte of its header and first types flipped: an error line or a parse, nothing else. */
    @Test
    void cutAndCorruptedBlobsGiveOneLineErrors() throws Exception {
        byte[] blob = BtfBuilder.everyKind(ByteOrder.LITTLE_ENDIAN);
        List<String> messages = new ArrayList<>();
        for (int n = 0; n < blob.length; n++) {
            byte[] cut = Arrays.copyOf(blob, n);
            KernelFormatException e = assertThrows(KernelFormatException.class, () -> Btf.parse(cut, cut.length, 0, cut.length), "cut at " + n);
            assertTrue(!e.getMessage().contains("\n"));
            messages.add(e.getMessage());
        }
        assertTrue(messages.stream().anyMatch(m -> m.contains("outside the")), messages.get(40));
        for (int i = 0; i < 400; i++) {
            for (int bit : new int[] {0x01, 0x80, 0xff}) {
                byte[] bad = blob.clone();
                bad[i] ^= bit;
                try {
                    Btf b = Btf.parse(bad, bad.length, 0, bad.length);
                    // whatever still parses must still dump and write a header
                    raw(b);
                    CHeaderWriter.write(b, new StringWriter());
                } catch (KernelFormatException e) {
                    assertTrue(!e.getMessage().contains("\n"));
                }
            }
        }
    }

    @Test
    void specificFaultsAreNamed() {
        byte[] blob = BtfBuilder.everyKind(ByteOrder.LITTLE_ENDIAN);
        assertEquals("no BTF magic 0xeB9F (version 1) at offset 0x0", message(patch(blob, 0, 0)));
        assertTrue(message(patch32(blob, 8, 2)).contains("places its sections outside"), message(patch32(blob, 8, 2)));
        assertTrue(message(patch(blob, 4, 200)).contains("unknown non-zero fields"), message(patch(blob, 4, 200)));
        assertTrue(message(patch32(blob, 4, 1 << 30)).contains("claims a length of"));
        assertTrue(message(patch(blob, blob.length - 1, 'x')).contains("does not end with a NUL"));
        // the first type's info word: kind 31 does not exist
        byte[] k = blob.clone();
        k[24 + 7] = (byte) (31);
        assertTrue(message(k).contains("unknown kind 31"), message(k));
        // the first type's name offset beyond the strings
        assertTrue(message(patch32(blob, 24, 0x00fffff0)).contains("past the string section"));
        // a pointer to a type that is not there
        BtfBuilder b = new BtfBuilder(ByteOrder.LITTLE_ENDIAN);
        b.integer("int", 4, BtfType.IntEncoding.SIGNED, 32);
        b.ref(BtfKind.PTR, "", 999);
        assertEquals("BTF type 2 (PTR) refers to type 999, beyond the last (2)", message(b.build()));
    }

    @Test
    void loopsAndDepthEndInAnError() throws Exception {
        // a typedef naming itself, and a chain of 5 000 pointers: sizes, headers and dumps must end
        BtfBuilder b = new BtfBuilder(ByteOrder.LITTLE_ENDIAN);
        int loop = b.ref(BtfKind.TYPEDEF, "loop_t", 1);
        int s = b.composite(BtfKind.STRUCT, "holder", 8, "x", loop, 0, 0);
        int prev = b.integer("int", 4, BtfType.IntEncoding.SIGNED, 32);
        for (int i = 0; i < 5000; i++) prev = b.ref(BtfKind.PTR, "", prev);
        b.composite(BtfKind.STRUCT, "deep", 8, "p", prev, 0, 0);
        byte[] blob = b.build();
        Btf btf = Btf.parse(blob, blob.length, 0, Long.MAX_VALUE);
        assertEquals(0, btf.sizeOf(loop, 8));
        assertEquals(0, btf.resolve(loop));
        assertTrue(raw(btf).contains("STRUCT 'holder'"));
        KernelFormatException e = assertThrows(KernelFormatException.class, () -> CHeaderWriter.write(btf, new StringWriter()));
        assertTrue(e.getMessage().contains("nests deeper than"), e.getMessage());
        assertEquals("holder", btf.type(s).name());
    }

    @Test
    void anArrayOfItselfEnds() throws Exception {
        // checkReferences lets a type name itself; sizes, alignment, headers and dumps must still end
        BtfBuilder b = new BtfBuilder(ByteOrder.LITTLE_ENDIAN);
        int u32 = b.integer("unsigned int", 4, 0, 32);
        int self = b.lastId() + 1;
        b.array(self, u32, 4);
        b.composite(BtfKind.STRUCT, "holder", 16, "a", self, 0, 0);
        byte[] blob = b.build();
        Btf btf = Btf.parse(blob, blob.length, 0, Long.MAX_VALUE);
        assertEquals(0, btf.sizeOf(self, 8));
        assertTrue(raw(btf).contains("ARRAY '(anon)' type_id=" + self));
        KernelFormatException e = assertThrows(KernelFormatException.class, () -> CHeaderWriter.write(btf, new StringWriter()));
        assertTrue(e.getMessage().contains("nests deeper than"), e.getMessage());
    }

    @Test
    void structsHoldingEachOtherByValueAreRefused() throws Exception {
        // a hostile blob: struct a { struct b b; }; struct b { struct a a; }; no header can say it
        BtfBuilder b = new BtfBuilder(ByteOrder.LITTLE_ENDIAN);
        int a = b.lastId() + 1;
        b.composite(BtfKind.STRUCT, "a", 8, "b", a + 1, 0, 0);
        b.composite(BtfKind.STRUCT, "b", 8, "a", a, 0, 0);
        byte[] blob = b.build();
        Btf btf = Btf.parse(blob, blob.length, 0, Long.MAX_VALUE);
        KernelFormatException e = assertThrows(KernelFormatException.class, () -> CHeaderWriter.write(btf, new StringWriter()));
        assertEquals("BTF: struct a (type 1) holds itself by value, through its members' types: no C header can declare it", e.getMessage());
    }

    private static String message(byte[] blob) {
        return assertThrows(KernelFormatException.class, () -> Btf.parse(blob, blob.length, 0, blob.length)).getMessage();
    }

    private static byte[] patch(byte[] b, int at, int value) {
        byte[] c = b.clone();
        c[at] = (byte) value;
        return c;
    }

    private static byte[] patch32(byte[] b, int at, long value) {
        byte[] c = b.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) value);
        return c;
    }

    static String raw(Btf btf) throws IOException {
        StringWriter w = new StringWriter();
        BtfRawDump.text(btf, w);
        return w.toString();
    }

    private static String run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}
