package kernelloader.module;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import kernelloader.corpus.Corpus;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.ksymtab.ExportTable;

/**
 * Debian's own modules for a corpus kernel (its linux-image package, fetched by .ci/qemu-dump.sh
 * MODULES_ONLY=1), linked against the kernel file as the kernel's loader would: a sample of at
 * least 200 (every 16th of modules.order, closer where a kernel has fewer than 3,200), each
 * after the modules its depends= names; every undefined symbol resolved to an export of the
 * kernel or of those modules, every CRC in __versions the kernel's, every relocation applied,
 * nothing the kernel would refuse.
 */
@Tag("corpus")
public class DebianModulesTest {
    public static Path modulesOf(String id) throws Exception {
        Path root = Path.of(System.getProperty("repository.root", "..")).toAbsolutePath().normalize();
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve(".ci/qemu-dump.sh").toString(), id).redirectErrorStream(true);
        pb.environment().put("MODULES_ONLY", "1");
        pb.environment().put("KERNEL_CORPUS", Corpus.dir().toString());
        pb.environment().putIfAbsent("KERNEL_DUMPS", System.getProperty("kernel.dumps", System.getProperty("user.home") + "/.cache/kernel-dumps"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        return Path.of(out.lines().reduce((a, b) -> b).orElseThrow());
    }

    @ParameterizedTest
    @ValueSource(strings = {"trixie-amd64-amd64", "trixie-arm64-arm64", "bookworm-mips64el-5kc-malta", "sid-riscv64-riscv64",
            "trixie-ppc64el-powerpc64le", "bookworm-s390x-s390x",
            "bullseye-armhf-armmp"})
    void aSampleLinksAsTheKernelWouldLinkIt(String id) throws Exception {
        Path dir = modulesOf(id);
        Kernel k = Kernel.read(Corpus.kernel(id).image(), KernelOptions.DEFAULT);
        ExportTable kernelExports = k.exports().get();
        Map<String, String> pathOf = new HashMap<>();
        Map<String, List<String>> deps = new HashMap<>();
        readDependencies(dir, pathOf, deps);
        // (sid's 7.x linux-modules package ships no modules.order: then modules.dep's modules, sorted)
        List<String> order = Files.exists(dir.resolve("modules.order")) ? Files.readAllLines(dir.resolve("modules.order"))
                : new ArrayList<>(new java.util.TreeSet<>(pathOf.values()));
        List<String> sample = new ArrayList<>();
        // every 16th, or closer where there are fewer than 3,200 modules (bookworm's mips64el has 3,043, sid's riscv64 3,146, trixie's ppc64el 3,154; every 11th of bookworm's s390x's 2,266)
        int step = Math.max(1, Math.min(16, order.size() / 200));
        for (int i = 0; i < order.size(); i += step) sample.add(name(order.get(i)));
        assertTrue(sample.size() >= 200, sample.size() + " modules");

        Map<String, ModuleLinker.Linked> linked = new LinkedHashMap<>();
        Map<String, Integer> types = new TreeMap<>();
        int relocations = 0, imports = 0, crcChecked = 0, viaPlt = 0, pairs = 0, riscvCalls = 0, riscvPairs = 0, viaStub = 0, viaGot = 0;
        // x86-64's module area; arm64's 2 GiB below the kernel, 1 GiB from it: calls reach it through PLTs;
        // riscv64's MODULES_VADDR (2 GiB below the kernel's _end): calls reach it directly, the
        // farthest within a few MiB of auipc+jalr's reach; MIPS's CKSSEG; ppc64's vmalloc area, where calls
        // to the kernel go through stubs; s390x's 6.1 module area, 4 TiB from the kernel (calls through PLTs)
        boolean arm64 = id.contains("arm64"), mips = id.contains("mips"), riscv = id.contains("riscv64"), ppc64 = id.contains("ppc64"),
                s390x = id.contains("s390x"), arm = id.contains("armhf");
        // 32-bit arm's module area (MODULES_VADDR, 16 MiB below PAGE_OFFSET: calls reach the kernel
        // directly), and when it is full the vmalloc area (module_alloc's fallback with
        // CONFIG_ARM_MODULE_PLTS; VMALLOC_START of a machine with at least 760 MiB of RAM), where
        // calls to the kernel go through PLTs
        final long modulesEnd = 0xc0000000L, vmallocStart = 0xf0000000L;
        boolean inVmalloc = false;
        // a module's per-cpu data goes to the kernel's per-cpu area (x86-64: offsets from 0)
        Long perCpuStart = k.kallsyms().get().addressOf("__per_cpu_start");
        // a kallsyms without KALLSYMS_ALL (bookworm's mips64el) has no data symbols: System.map's
        if (perCpuStart == null) perCpuStart = Corpus.kernel(id).firstAddresses().get("__per_cpu_start");
        long perCpu = perCpuStart + 0x40000;
        String first = sample.get(0);
        KernelModuleFile f = KernelModuleFile.read(first, Files.readAllBytes(dir.resolve(pathOf.get(first))));
        final long start = arm64 ? 0xffff800040000000L : LoadedModules.into(k).defaultBase(f);
        long base = start;
        for (String name : sample) {
            for (String m : withDependencies(name, deps)) {
                if (linked.containsKey(m)) continue;
                KernelModuleFile mf = KernelModuleFile.read(m, Files.readAllBytes(dir.resolve(pathOf.get(m))));
                ModuleLinker.Exports exports = new ModuleLinker.Exports().add("vmlinux", kernelExports.exports(), kernelExports.hasCrcs())
                        .kernelSymbols(k.kallsyms().get()::addressOf);
                for (String d : deps.get(m)) exports.add(d, linked.get(d).exports(), true);
                ModuleLayout layout = ModuleLayout.of(mf, base, perCpu, Map.of());
                if (arm && !inVmalloc && end(layout) > modulesEnd) {
                    inVmalloc = true;
                    base = vmallocStart;
                    layout = ModuleLayout.of(mf, base, perCpu, Map.of());
                }
                ModuleLinker.Linked l = ModuleLinker.link(mf, layout, exports);
                assertTrue(l.unresolved().isEmpty(), m + ": unresolved " + l.unresolved());
                assertTrue(l.refusals().isEmpty(), m + ": " + l.refusals());
                linked.put(m, l);
                // the next module after this one's memory (the module area is 1 GiB: the sample fits)
                for (long[] mem : layout.memory().values()) base = Math.max(base, mem[0] + mem[1]);
                base = (base + 0xfff) & ~0xfffL;
                if (!sample.contains(m)) continue;
                l.relocationCounts().forEach((t, c) -> types.merge(t, c, Integer::sum));
                if (arm64) viaPlt += callsReachTheirTargets(l);
                if (mips) pairs += hiLoPairsReachTheirTargets(l);
                if (riscv) {
                    riscvCalls += RiscvCalls.reachTheirTargets(l);
                    riscvPairs += RiscvCalls.pcrelPairsAddUp(l);
                }
                if (arm) viaPlt += armCallsReachTheirTargets(l, k.kallsyms().get().addressOf("ftrace_caller"));
                if (ppc64) viaStub += Ppc64CallsCheck.callsReachTheirTargets(l);
                if (s390x) {
                    viaPlt += s390CallsReachTheirTargets(l);
                    viaGot += s390GotEntriesHoldTheirSymbols(l);
                }
                relocations += l.relocations();
                imports += l.imports().size();
                for (ModuleLinker.Import im : l.imports()) if (im.from().equals("vmlinux") && hasVersion(mf, im.name())) crcChecked++;
            }
        }
        // the checks can refuse: one kernel CRC changed (a kernel without CONFIG_MODVERSIONS, as
        // riscv64's: one export put in a namespace the module does not import)
        if (!kernelExports.hasCrcs()) {
            assertEquals(0, crcChecked, "CRCs checked against a kernel without them");
            namespaceIsChecked(f, kernelExports, deps.get(first), linked, start, perCpu);
        } else {
            String victim = null;
            for (KernelModuleFile.Version v : f.versions()) {
                // one the module imports (before 6.x, __versions also holds module_layout, which the
                // kernel checks apart: check_modstruct_version)
                boolean imported = f.symbols().stream().anyMatch(x -> x.undefined() && x.name().equals(v.name()));
                if (imported && kernelExports.exports().stream().anyMatch(e -> e.name().equals(v.name()))) { victim = v.name(); break; }
            }
            assertTrue(victim != null, first + " imports a CRC'd kernel symbol");
            final String changed = victim;
            List<kernelloader.ksymtab.KernelExport> altered = new ArrayList<>();
            for (kernelloader.ksymtab.KernelExport e : kernelExports.exports()) {
                altered.add(e.name().equals(changed) ? new kernelloader.ksymtab.KernelExport(e.name(), e.value(), e.kind(), e.namespace(), e.crc() ^ 1) : e);
            }
            ModuleLinker.Exports wrong = new ModuleLinker.Exports().add("vmlinux", altered, true);
            for (String d : deps.get(first)) wrong.add(d, linked.get(d).exports(), true);
            ModuleLinker.Linked refused = ModuleLinker.link(f, ModuleLayout.of(f, start, perCpu, Map.of()), wrong);
            assertTrue(refused.refusals().stream().anyMatch(r -> r.contains("disagrees about version of symbol " + changed)), refused.refusals().toString());
            assertTrue(!refused.loads());
        }

        System.out.printf("%s: %d modules linked (%d sampled), %d imports (%d CRCs checked against the kernel's), %d relocations applied: %s%n",
                id, linked.size(), sample.size(), imports, crcChecked, relocations, types);
        if (riscv) {
            // (no CRCs: Debian's riscv64 7.2 kernel is built without CONFIG_MODVERSIONS)
            assertTrue(relocations > RISCV_RELOCATIONS, relocations + " relocations");
            System.out.printf("%s: %d calls (auipc+jalr) decoded from the linked code land on the imported function, "
                    + "%d auipc+lo12 pairs on their HI20's target%n", id, riscvCalls, riscvPairs);
            assertTrue(riscvCalls > RISCV_CALLS && riscvPairs > RISCV_PAIRS, riscvCalls + " calls, " + riscvPairs + " pairs checked");
        } else {
            assertTrue(relocations > 100_000 && crcChecked > 5_000, relocations + " relocations, " + crcChecked + " CRCs");
        }
        if (mips) {
            System.out.printf("%s: %d HI16/LO16 pairs make their symbol's address%n", id, pairs);
            assertTrue(pairs > 40_000, pairs + " HI16/LO16 pairs");   // bookworm's 6.1: 81,342 of 203 modules
        }
        if (arm64) {
            System.out.printf("%s: %d calls to the kernel, 1 GiB away, each through a PLT entry that branches to the callee%n", id, viaPlt);
            assertTrue(viaPlt > 10_000, viaPlt + " calls through PLTs");
        }
        if (ppc64) {
            System.out.printf("%s: %d calls to imports, each through a stub that loads the callee's address, the nop after it ld r2,24(r1)%n", id, viaStub);
            assertTrue(viaStub > 10_000, viaStub + " calls through stubs");
        }
        if (arm) {
            System.out.printf("%s: %d calls to the kernel from the vmalloc area, each through a PLT entry (ldr pc of its literal) to the callee%n", id, viaPlt);
            assertTrue(inVmalloc && viaPlt > PLT_CALLS_ARM, viaPlt + " calls through PLTs");
        }
        if (s390x) {
            System.out.printf("%s: %d calls to the kernel, 4 TiB away, each through a PLT entry that loads the callee's address;"
                    + " %d GOTENT loads, each from a GOT slot holding the symbol's address%n", id, viaPlt, viaGot);
            assertTrue(viaPlt > 10_000 && viaGot > 1_000, viaPlt + " calls through PLTs, " + viaGot + " loads through the GOT");
        }
    }

    /**
     * Every lui (R_MIPS_HI16) and daddiu/load/store (R_MIPS_LO16) of one symbol and addend, as
     * the linked bytes hold them, makes that symbol's address as the CPU does (the lui's 32 bits
     * sign-extended, plus the low 16 bits sign-extended): the module is where -msym32 code can
     * reach and be reached. Returns how many LO16s were checked.
     */
    static int hiLoPairsReachTheirTargets(ModuleLinker.Linked l) {
        KernelModuleFile f = l.module();
        int n = 0;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            byte[] bytes = l.sections().get(p.index());
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(f.elf().order());
            Map<String, Long> hiOf = new HashMap<>();
            java.util.Set<String> wide = new java.util.HashSet<>();   // also HIGHEST/HIGHER: not a lui/daddiu pair
            for (ModuleRelocation r : f.relocationsOf(p.index())) {
                String key = r.symbol() + "+" + r.addend();
                if (r.type() == MipsRelocator.R_MIPS_HIGHEST || r.type() == MipsRelocator.R_MIPS_HIGHER) wide.add(key);
                if (r.type() != MipsRelocator.R_MIPS_HI16) continue;
                Long before = hiOf.put(key, (long) (b.getInt((int) r.offset()) << 16));
                if (before != null) assertEquals(before, hiOf.get(key), f.name() + ": two HI16s of one value differ");
            }
            for (ModuleRelocation r : f.relocationsOf(p.index())) {
                String key = r.symbol() + "+" + r.addend();
                if (r.type() != MipsRelocator.R_MIPS_LO16 || wide.contains(key) || !hiOf.containsKey(key)) continue;
                long made = hiOf.get(key) + (short) b.getInt((int) r.offset());
                long want = l.symbolValues()[r.symbol()] + r.addend();
                assertEquals(want, made, String.format("%s: %s+0x%x, %s%+d", f.name(), p.name(), r.offset(),
                        f.symbols().get(r.symbol()).name(), r.addend()));
                n++;
            }
        }
        return n;
    }

    /** What the riscv64 sample must have at least (it had 221,977 relocations, 44,897 calls to imports, 36,777 LO12_I pairs). */
    static final int RISCV_RELOCATIONS = 150_000, RISCV_CALLS = 30_000, RISCV_PAIRS = 25_000;

    /** The first module refused once an export it imports from the kernel is put in a namespace it does not import. */
    private static void namespaceIsChecked(KernelModuleFile f, ExportTable kernelExports, List<String> deps,
                                           Map<String, ModuleLinker.Linked> linked, long start, long perCpu) throws Exception {
        java.util.Set<String> undefined = new java.util.HashSet<>();
        for (ModuleSymbol s : f.symbols()) if (s.undefined()) undefined.add(s.name());
        String victim = null;
        for (kernelloader.ksymtab.KernelExport e : kernelExports.exports()) {
            if (undefined.contains(e.name()) && (e.namespace() == null || e.namespace().isEmpty())) { victim = e.name(); break; }
        }
        assertTrue(victim != null, f.name() + " imports a kernel symbol outside any namespace");
        final String changed = victim;
        List<kernelloader.ksymtab.KernelExport> altered = new ArrayList<>();
        for (kernelloader.ksymtab.KernelExport e : kernelExports.exports()) {
            altered.add(e.name().equals(changed) ? new kernelloader.ksymtab.KernelExport(e.name(), e.value(), e.kind(), "NOT_IMPORTED", e.crc()) : e);
        }
        ModuleLinker.Exports wrong = new ModuleLinker.Exports().add("vmlinux", altered, false);
        for (String d : deps) wrong.add(d, linked.get(d).exports(), true);
        ModuleLinker.Linked refused = ModuleLinker.link(f, ModuleLayout.of(f, start, perCpu, Map.of()), wrong);
        assertTrue(refused.refusals().stream().anyMatch(r -> r.contains("module uses symbol (" + changed + ") from namespace NOT_IMPORTED")),
                refused.refusals().toString());
        assertTrue(!refused.loads());
    }

    /**
     * Every brasl of the module's .text to an import (R_390_PLT32DBL), decoded from the linked
     * bytes: it lands on a PLT entry of the module's GOT+PLT (basr %r1,0; lg %r1,12(%r1); br %r1)
     * whose address, at the entry's byte 14, is the import's; or, in reach, on the import itself.
     * Returns how many went through the PLT.
     */
    static int s390CallsReachTheirTargets(ModuleLinker.Linked l) {
        KernelModuleFile f = l.module();
        java.util.Map<String, Long> imported = new HashMap<>();
        for (ModuleLinker.Import im : l.imports()) imported.put(im.name(), im.address());
        ModuleLayout.Placed gotPlt = null;
        for (ModuleLayout.Placed q : l.layout().sections()) if (q.reserved()) gotPlt = q;
        int n = 0;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            if (!p.name().equals(".text")) continue;
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(l.sections().get(p.index()));   // big-endian
            for (ModuleRelocation r : f.relocationsOf(p.index())) {
                if (r.type() != 20) continue;
                Long callee = imported.get(f.symbols().get(r.symbol()).name());
                if (callee == null) continue;
                long place = p.address() + r.offset();
                // the field is the instruction's second to sixth byte: the branch is from place - 2
                long target = place - 2 + 2L * b.getInt((int) r.offset());
                assertEquals(2, r.addend(), "a brasl's PLT32DBL addend");
                if (target == callee) continue;
                assertTrue(gotPlt != null && Long.compareUnsigned(target - gotPlt.address(), gotPlt.size()) < 0,
                        f.name() + ": a call at 0x" + Long.toHexString(place) + " lands outside the module's PLT");
                java.nio.ByteBuffer e = java.nio.ByteBuffer.wrap(l.sections().get(gotPlt.index()));
                int off = (int) (target - gotPlt.address());
                assertEquals(0x0d10e310, e.getInt(off), "basr %r1,0; lg");
                assertEquals(0x100c0004, e.getInt(off + 4), "lg %r1,12(%r1)");
                // br %r1, or with expolines brcl 0xf to the __jump_r1 thunk
                assertEquals(S390ModuleSections.expolines(f) ? (short) 0xc0f4 : (short) 0x07f1, e.getShort(off + 8), "br %r1");
                assertEquals(callee.longValue(), e.getLong(off + 14), f.name() + ": the PLT entry for " + f.symbols().get(r.symbol()).name());
                n++;
            }
        }
        return n;
    }

    /**
     * Every R_390_GOTENT of the module's .text (lgrl and the like), decoded from the linked bytes:
     * the slot it addresses is in the module's GOT+PLT and holds the symbol's linked address.
     * Returns how many.
     */
    static int s390GotEntriesHoldTheirSymbols(ModuleLinker.Linked l) {
        KernelModuleFile f = l.module();
        ModuleLayout.Placed gotPlt = null;
        for (ModuleLayout.Placed q : l.layout().sections()) if (q.reserved()) gotPlt = q;
        int n = 0;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            if (!p.name().equals(".text")) continue;
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(l.sections().get(p.index()));
            for (ModuleRelocation r : f.relocationsOf(p.index())) {
                if (r.type() != 26) continue;
                long slot = p.address() + r.offset() + 2L * b.getInt((int) r.offset()) - r.addend();
                assertTrue(gotPlt != null && Long.compareUnsigned(slot - gotPlt.address(), gotPlt.size() - 7) < 0,
                        f.name() + ": a GOTENT at 0x" + Long.toHexString(p.address() + r.offset()) + " addresses no GOT slot");
                long held = java.nio.ByteBuffer.wrap(l.sections().get(gotPlt.index())).getLong((int) (slot - gotPlt.address()));
                assertEquals(l.symbolValues()[r.symbol()], held, f.name() + ": the GOT slot of " + f.symbols().get(r.symbol()).name());
                n++;
            }
        }
        return n;
    }

    /** Where a module's memory ends (its last memory type's end). */
    private static long end(ModuleLayout layout) {
        long e = 0;
        for (long[] mem : layout.memory().values()) e = Math.max(e, mem[0] + mem[1]);
        return e;
    }

    /** What the arm sample's calls through PLTs must exceed. */
    static final int PLT_CALLS_ARM = 500;   // 874 measured (bullseye-armhf-armmp: the area fills at the 300th module or so)

    /**
     * 32-bit arm: every BL (R_ARM_CALL) of the module's .text to an import, decoded from the
     * linked bytes: it reaches the callee directly, or lands on a PLT entry of the module, an
     * {@code ldr pc, [pc, #56]} whose literal, 64 bytes on, is the callee's address. Each PLT
     * starts with the kernel's two fixed entries (ftrace_caller, __gnu_mcount_nc). Returns how
     * many calls go through PLTs.
     */
    static int armCallsReachTheirTargets(ModuleLinker.Linked l, long ftraceCaller) {
        KernelModuleFile f = l.module();
        Map<String, Long> imported = new HashMap<>();
        for (ModuleLinker.Import im : l.imports()) imported.put(im.name(), im.address());
        int n = 0;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            if (!p.name().equals(".text")) continue;
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(l.sections().get(p.index())).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (ModuleRelocation r : f.relocationsOf(p.index())) {
                if (r.type() != ArmRelocator.CALL) continue;
                Long callee = imported.get(f.symbols().get(r.symbol()).name());
                if (callee == null) continue;
                long place = p.address() + r.offset();
                int insn = b.getInt((int) r.offset());
                // only calls of the symbol itself (bl sym: the addend -8 in the file's instruction)
                int original = java.nio.ByteBuffer.wrap(f.data()).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .getInt((int) (f.sections().get(p.index()).offset() + r.offset()));
                if ((original & 0xffffff) != 0xfffffe) continue;
                long target = (place + 8 + ((insn & 0xffffff) << 8 >> 6)) & 0xffffffffL;
                if (target == callee) continue;   // in reach: a direct branch
                ModuleLayout.Placed plt = null;
                for (ModuleLayout.Placed q : l.layout().sections()) {
                    if (Long.compareUnsigned(target - q.address(), q.size()) < 0) plt = q;
                }
                assertTrue(plt != null && plt.name().equals(".plt"), f.name() + ": a call at 0x" + Long.toHexString(place) + " lands outside the module's .plt");
                java.nio.ByteBuffer e = java.nio.ByteBuffer.wrap(l.sections().get(plt.index())).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                int off = (int) (target - plt.address());
                assertEquals(0xe59ff038, e.getInt(off), "ldr pc, [pc, #56]");
                assertEquals(callee.longValue(), e.getInt(off + 64) & 0xffffffffL, f.name() + ": the PLT entry for " + f.symbols().get(r.symbol()).name());
                assertEquals(ftraceCaller, e.getInt(64) & 0xffffffffL, "the first fixed PLT entry: FTRACE_ADDR");
                n++;
            }
        }
        return n;
    }

    /** modules.dep of {@code dir}: each module's path, and the names of the modules it needs. */
    public static void readDependencies(Path dir, Map<String, String> pathOf, Map<String, List<String>> deps) throws java.io.IOException {
        for (String line : Files.readAllLines(dir.resolve("modules.dep"))) {
            String[] f = line.split(":", 2);
            String name = name(f[0]);
            pathOf.put(name, f[0]);
            List<String> d = new ArrayList<>();
            for (String p : f[1].trim().split("\\s+")) if (!p.isEmpty()) d.add(name(p));
            deps.put(name, d);
        }
    }

    /**
     * Every BL of the module's code to an import out of its reach, decoded from the linked bytes:
     * the branch lands on a PLT entry of the module (adrp x16; add x16; br x16) whose target is
     * the import's address. Returns how many.
     */
    static int callsReachTheirTargets(ModuleLinker.Linked l) {
        KernelModuleFile f = l.module();
        java.util.Map<String, Long> imported = new HashMap<>();
        for (ModuleLinker.Import im : l.imports()) imported.put(im.name(), im.address());
        int n = 0;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            if (!p.name().equals(".text")) continue;
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(l.sections().get(p.index())).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (ModuleRelocation r : f.relocationsOf(p.index())) {
                if (r.type() != 283 || r.addend() != 0) continue;
                Long callee = imported.get(f.symbols().get(r.symbol()).name());
                if (callee == null) continue;
                long place = p.address() + r.offset();
                int insn = b.getInt((int) r.offset());
                long target = place + (((long) (insn & 0x3ffffff) << 38) >> 36);
                if (target == callee) continue;   // in reach (a module loaded just before): a direct branch
                byte[] plt = null;
                long pltAt = 0;
                for (ModuleLayout.Placed q : l.layout().sections()) {
                    if (Long.compareUnsigned(target - q.address(), q.size()) < 0) { plt = l.sections().get(q.index()); pltAt = q.address(); }
                }
                assertTrue(plt != null, f.name() + ": a call at 0x" + Long.toHexString(place) + " lands outside the module");
                java.nio.ByteBuffer e = java.nio.ByteBuffer.wrap(plt).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                int off = (int) (target - pltAt);
                int adrp = e.getInt(off), add = e.getInt(off + 4), br = e.getInt(off + 8);
                assertEquals(0xd61f0200, br, "br x16");
                long pages = ((((long) (adrp >> 5) & 0x7ffff) << 2 | ((adrp >> 29) & 3)) << 43) >> 43;
                long dst = (target & ~0xfffL) + (pages << 12) + ((add >> 10) & 0xfff);
                assertEquals(callee.longValue(), dst, f.name() + ": the PLT entry for " + f.symbols().get(r.symbol()).name());
                n++;
            }
        }
        return n;
    }

    private static boolean hasVersion(KernelModuleFile f, String name) {
        for (KernelModuleFile.Version v : f.versions()) if (v.name().equals(name)) return true;
        return false;
    }

    /** {@code name} after everything it depends on (modules.dep lists a module's whole closure). */
    private static List<String> withDependencies(String name, Map<String, List<String>> deps) {
        List<String> out = new ArrayList<>();
        visit(name, deps, out);
        return out;
    }

    private static void visit(String name, Map<String, List<String>> deps, List<String> out) {
        if (out.contains(name)) return;
        for (String d : deps.getOrDefault(name, List.of())) visit(d, deps, out);
        out.add(name);
    }

    public static String name(String path) {
        return path.replaceAll(".*/", "").replaceAll("\\.ko(\\..*)?$", "").replace('-', '_');
    }
}
