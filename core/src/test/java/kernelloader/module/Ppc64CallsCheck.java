package kernelloader.module;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * Decodes a linked ppc64 module's calls to its imports from its bytes: the module's TOC pointer
 * as its own code computes it (a global entry's addis r2,r12,HA; addi r2,r2,LO with r12 the
 * function's address: the large-model prologue R_PPC64_ENTRY rewrote, or the small model's
 * R_PPC64_REL16_HA/LO against .TOC.), then for each bl to an
 * import: it lands on a stub whose addis r11,r2; addi r11,r11 give the stub's own address from
 * that r2, whose ld r12,32(r11) reads the callee's address, and the nop after the bl is now
 * ld r2,24(r1).
 */
final class Ppc64CallsCheck {
    private Ppc64CallsCheck() {}

    /** How many calls were checked. */
    static int callsReachTheirTargets(ModuleLinker.Linked l) {
        KernelModuleFile f = l.module();
        Map<String, Long> imported = new HashMap<>();
        for (ModuleLinker.Import im : l.imports()) imported.put(im.name(), im.address());
        ModuleLayout.Placed text = null, stubs = null;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            if (p.name().equals(".text")) text = p;
            if (p.name().equals(".stubs")) stubs = p;
        }
        if (text == null) return 0;
        assertTrue(stubs != null, f.name() + ": no .stubs laid out");
        ByteBuffer b = ByteBuffer.wrap(l.sections().get(text.index())).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer s = ByteBuffer.wrap(l.sections().get(stubs.index())).order(ByteOrder.LITTLE_ENDIAN);
        Long r2 = null;
        for (ModuleRelocation r : f.relocationsOf(text.index())) {
            boolean entry = r.type() == Ppc64Relocator.ENTRY
                    || r.type() == Ppc64Relocator.REL16_HA && f.symbols().get(r.symbol()).name().equals(".TOC.");
            if (!entry) continue;
            int addis = b.getInt((int) r.offset()), addi = b.getInt((int) r.offset() + 4);
            if ((addis & 0xffff0000) != 0x3c4c0000 || (addi & 0xffff0000) != 0x38420000) continue;
            r2 = text.address() + r.offset() + ((long) (short) addis << 16) + (short) addi;
            break;
        }
        int n = 0;
        for (ModuleRelocation r : f.relocationsOf(text.index())) {
            if (r.type() != Ppc64Relocator.REL24 || r.addend() != 0) continue;
            String name = f.symbols().get(r.symbol()).name();
            Long callee = imported.get(name);
            if (callee == null) continue;
            long place = text.address() + r.offset();
            int bl = b.getInt((int) r.offset());
            long target = place + ((long) (bl & 0x03fffffc) << 38 >> 38);
            long off = target - stubs.address();
            assertTrue(off >= 0 && off + 40 <= stubs.size() && off % 40 == 0, f.name() + ": the call to " + name + " does not land on a stub");
            int addis = s.getInt((int) off), addi = s.getInt((int) off + 4);
            assertEquals(0x3d620000, addis & 0xffff0000, "addis r11,r2");
            assertEquals(0x396b0000, addi & 0xffff0000, "addi r11,r11");
            assertEquals(0xf8410018, s.getInt((int) off + 8), "std r2,24(r1)");
            assertEquals(0xe98b0020, s.getInt((int) off + 12), "ld r12,32(r11)");
            assertEquals(0x7d8903a6, s.getInt((int) off + 16), "mtctr r12");
            assertEquals(0x4e800420, s.getInt((int) off + 20), "bctr");
            assertEquals(callee.longValue(), s.getLong((int) off + 32), f.name() + ": the stub for " + name);
            assertTrue(r2 != null, f.name() + ": calls through stubs, but no global entry computes r2");
            assertEquals(target, r2 + ((long) (short) addis << 16) + (short) addi, f.name() + ": r11 of the stub for " + name);
            if ((bl & 1) != 0) assertEquals(0xe8410018, b.getInt((int) r.offset() + 4), f.name() + ": ld r2,24(r1) after the call to " + name);
            n++;
        }
        return n;
    }
}
