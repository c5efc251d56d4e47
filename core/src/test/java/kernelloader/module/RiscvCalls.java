package kernelloader.module;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * riscv64 calls read back from a linked module: each auipc+jalr pair an R_RISCV_CALL_PLT (or
 * CALL) made to an imported function is decoded from the linked bytes, and must land on the
 * function, or on a .plt entry whose .got.plt slot holds it.
 */
final class RiscvCalls {
    private RiscvCalls() {}

    /** Where the auipc at {@code at} and the I-type instruction after it point, from {@code place}. */
    static long target(ByteBuffer b, int at, long place) {
        int auipc = b.getInt(at), jalr = b.getInt(at + 4);
        assertEquals(0x17, auipc & 0x7f, "auipc at 0x" + Long.toHexString(place));
        return place + (auipc & 0xfffff000) + (jalr >> 20);   // both sign-extended
    }

    /** How many calls to imports {@code l} has; asserts each reaches its callee. */
    static int reachTheirTargets(ModuleLinker.Linked l) {
        KernelModuleFile f = l.module();
        Map<String, Long> imported = new HashMap<>();
        for (ModuleLinker.Import im : l.imports()) imported.put(im.name(), im.address());
        int n = 0;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            ByteBuffer b = ByteBuffer.wrap(l.sections().get(p.index())).order(ByteOrder.LITTLE_ENDIAN);
            for (ModuleRelocation r : f.relocationsOf(p.index())) {
                if (r.type() != RiscvRelocator.CALL_PLT && r.type() != RiscvRelocator.CALL || r.addend() != 0) continue;
                Long callee = imported.get(f.symbols().get(r.symbol()).name());
                if (callee == null) continue;
                long place = p.address() + r.offset();
                long target = target(b, (int) r.offset(), place);
                if (target != callee) {
                    int plt = f.section(".plt"), gotPlt = f.section(".got.plt");
                    assertTrue(plt >= 0, f.name() + ": a call at 0x" + Long.toHexString(place) + " to " + Long.toHexString(callee)
                            + " lands at 0x" + Long.toHexString(target));
                    long pltAt = l.layout().addressOf(f, plt);
                    ByteBuffer e = ByteBuffer.wrap(l.sections().get(plt)).order(ByteOrder.LITTLE_ENDIAN);
                    long slot = target(e, (int) (target - pltAt), target);
                    long slotAt = l.layout().addressOf(f, gotPlt);
                    long held = ByteBuffer.wrap(l.sections().get(gotPlt)).order(ByteOrder.LITTLE_ENDIAN).getLong((int) (slot - slotAt));
                    assertEquals(callee.longValue(), held, f.name() + ": the PLT entry for " + f.symbols().get(r.symbol()).name());
                }
                n++;
            }
        }
        return n;
    }

    /**
     * How many PCREL_HI20 + PCREL_LO12_I pairs {@code l} has; asserts each auipc's upper part and
     * the load's (or addi's) 12 bits after it add up to the HI20's target.
     */
    static int pcrelPairsAddUp(ModuleLinker.Linked l) {
        KernelModuleFile f = l.module();
        long[] values = l.symbolValues();
        int n = 0;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            ByteBuffer b = ByteBuffer.wrap(l.sections().get(p.index())).order(ByteOrder.LITTLE_ENDIAN);
            Map<Long, ModuleRelocation> hi20At = new HashMap<>();
            for (ModuleRelocation r : f.relocationsOf(p.index())) if (r.type() == RiscvRelocator.PCREL_HI20) hi20At.put(p.address() + r.offset(), r);
            for (ModuleRelocation r : f.relocationsOf(p.index())) {
                if (r.type() != RiscvRelocator.PCREL_LO12_I) continue;
                long label = values[r.symbol()];
                ModuleRelocation hi = hi20At.get(label);
                assertTrue(hi != null, f.name() + ": a LO12 at 0x" + Long.toHexString(r.offset()) + " without its HI20");
                int auipc = b.getInt((int) (label - p.address())), lo = b.getInt((int) r.offset());
                long reached = label + (auipc & 0xfffff000) + (lo >> 20);
                assertEquals(values[hi.symbol()] + hi.addend(), reached, f.name() + ": the pair at 0x" + Long.toHexString(label));
                n++;
            }
        }
        return n;
    }
}
