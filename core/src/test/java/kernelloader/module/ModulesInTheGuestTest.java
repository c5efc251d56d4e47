package kernelloader.module;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
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

import kernelloader.dump.Arm64PageTables;
import kernelloader.dump.RunningKernel;
import kernelloader.image.ElfHeader;
import kernelloader.image.ElfProgramHeader;
import kernelloader.image.ElfSectionHeader;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.ksymtab.ExportTable;
import kernelloader.running.RunningKernelTest;

/**
 * Ground truth from the kernel's own loader: Debian's trixie amd64 kernel booted in QEMU with
 * ext4, bridge, nf_tables and xfs (and what they need) insmod'ed from Debian's package, their
 * /sys/module/NAME/sections recorded, then the guest's virtual memory dumped (QEMU walks its page
 * tables); and trixie's arm64 kernel (qemu-system-aarch64 virt) with ext4 and bridge, whose
 * module memory is read from its physical memory through its own page tables
 * ({@link Arm64PageTables}: QEMU makes no paging dump of arm64). On arm64 the tables that name
 * what the kernel rewrites are its alternatives, ftrace's patchable entries and jump labels, and
 * .text.ftrace_trampoline is filled at load. Each module, linked here at those section addresses against the running kernel's
 * exports (read from the dump) and its dependencies', has the guest's bytes in every section of
 * code and read-only data, apart from the places the kernel patches at load time — each named
 * by a table of the module's own: alternatives (.altinstructions), SMP lock prefixes on this
 * one-CPU guest (.smp_locks), retpolines and return thunks (.retpoline_sites, .return_sites),
 * call depth accounting (.call_sites), IBT's sealed ENDBRs (.ibt_endbr_seal), ftrace's call
 * sites made NOPs (__mcount_loc, __patchable_function_entries), jump labels (__jump_table),
 * static calls (.static_call_sites). Our layout of the sections is the loader's, offset for
 * offset. Sections the kernel rewrites as a whole are not compared: the tables it sorts at load
 * (__ex_table, __jump_table, __mcount_loc, .orc_unwind*), the static call trampolines, struct module
 * (.gnu.linkonce.this_module), and data the module has since written to.
 */
@Tag("corpus")
public class ModulesInTheGuestTest {
    static final String ID = "trixie-amd64-amd64";
    static final String MODULES = "crc32c_generic ext4 bridge nf_tables xfs";
    /** arm64's boot: fewer modules (its TCG boot is slower); its own boot number beside RunningKernelTest's 1 and 2. */
    static final String ARM64 = "trixie-arm64-arm64";
    static final Map<String, String> ARM64_BOOT = Map.of("MODULES", "crc32c_generic ext4 bridge");
    /**
     * The boot: these modules, the guest's virtual memory dumped through its page tables, and
     * QEMU's vmcoreinfo device (RunningKernelTest reads the same boot's VMCOREINFO note: one boot
     * for both, to keep CI short).
     */
    public static final Map<String, String> BOOT = Map.of("MODULES", MODULES, "PAGING", "1", "VMCOREINFO", "1");

    /** Sections compared byte for byte (after the patch sites): code and what nothing writes. */
    static boolean compared(String name, long flags) {
        if (name.startsWith(".init") || name.startsWith(".orc_unwind") || name.equals("__ex_table") || name.equals("__jump_table")
                || name.equals("__mcount_loc") || name.equals(".text.ftrace_trampoline")
                || name.equals(".static_call.text") || name.equals(".static_call_sites") || name.equals(".gnu.linkonce.this_module")
                || name.equals(".symtab") || name.equals(".strtab")) return false;
        return (flags & ElfSectionHeader.SHF_WRITE) == 0;
    }

    @ParameterizedTest
    @ValueSource(strings = {ID, ARM64})
    void eachModuleHasTheGuestsBytes(String id) throws Exception {
        boolean arm64 = id.equals(ARM64);
        Path boot = arm64 ? RunningKernelTest.boot(id, 3, ARM64_BOOT) : RunningKernelTest.boot(id, 4, BOOT);
        Path dir = DebianModulesTest.modulesOf(id);
        Map<String, String> pathOf = new HashMap<>();
        Map<String, List<String>> deps = new HashMap<>();
        DebianModulesTest.readDependencies(dir, pathOf, deps);
        // the guest's sections: "module section address"; /proc/modules lines (6 fields) give the load order
        Map<String, Map<String, Long>> sections = new LinkedHashMap<>();
        List<String> loaded = new ArrayList<>();
        for (String line : Files.readAllLines(boot.resolve("modules"))) {
            String[] f = line.split(" ");
            if (f.length == 3 && f[2].startsWith("0x")) {
                sections.computeIfAbsent(f[0], k -> new LinkedHashMap<>()).put(f[1], Long.parseUnsignedLong(f[2].substring(2), 16));
            } else if (f.length >= 6) {
                loaded.add(0, f[0]);
            }
        }
        assertTrue(loaded.size() >= (arm64 ? 5 : 10), loaded.toString());
        Kernel running = Kernel.read(boot.resolve(arm64 ? "raw.bin" : "core.elf"), KernelOptions.DEFAULT);
        ExportTable kernelExports = running.exports().get();
        kernelloader.btf.Btf btf = running.btf().get().btf();
        Guest guest = arm64 ? pageTables(running, boot.resolve("raw.bin")) : new GuestMemory(boot.resolve("core-paging.elf"));

        // the guest's /proc/kallsyms lines of the modules: "address type name\t[module]"
        Map<String, java.util.Set<String>> guestSymbols = new HashMap<>();
        for (String line : Files.readAllLines(boot.resolve("kallsyms"), java.nio.charset.StandardCharsets.ISO_8859_1)) {
            int tab = line.indexOf("\t[");
            if (tab < 0) continue;
            String mod = line.substring(tab + 2, line.indexOf(']', tab));
            String[] f = line.substring(0, tab).split(" ");
            guestSymbols.computeIfAbsent(mod, x -> new java.util.HashSet<>()).add(f[2] + "@" + f[0]);
        }
        int symbolsChecked = 0;
        Map<String, ModuleLinker.Linked> linked = new HashMap<>();
        Map<String, Integer> masked = new TreeMap<>(), sites = new TreeMap<>();
        long comparedBytes = 0, dataDiffer = 0, dataBytes = 0;
        List<String> report = new ArrayList<>();
        for (String m : loaded) {
            KernelModuleFile f = KernelModuleFile.read(m, Files.readAllBytes(dir.resolve(pathOf.get(m))));
            Map<String, Long> given = sections.get(m);
            ModuleLinker.Exports exports = new ModuleLinker.Exports().add("vmlinux", kernelExports.exports(), kernelExports.hasCrcs());
            for (String d : deps.get(m)) exports.add(d, linked.get(d).exports(), true);
            // our layout, placed by the guest's first section of each memory type: every other section where the guest put it
            ModuleLayout ours = ModuleLayout.of(f, 0, 0, Map.of());
            Map<ModuleLayout.MemoryType, Long> bases = new HashMap<>();
            for (ModuleLayout.Placed p : ours.sections()) {
                Long g = given.get(p.name());
                if (g == null || p.size() == 0) continue;
                Long b = bases.putIfAbsent(p.type(), g - p.offset());
                if (b != null) assertEquals(b.longValue(), g - p.offset(), m + " " + p.name() + ": the loader's offset in " + p.type());
            }
            ModuleLayout layout = ModuleLayout.of(f, 0, perCpuBase(f, given, guest, btf), given);
            ModuleLinker.Linked l = ModuleLinker.link(f, layout, exports);
            assertTrue(l.loads(), m + ": " + l.unresolved() + " " + l.refusals());
            linked.put(m, l);
            // every symbol the guest lists for the module is one of ours, at our address
            java.util.Set<String> ours2 = new java.util.HashSet<>();
            for (ModuleSymbol sym : f.symbols()) {
                if (!sym.name().isEmpty() && !sym.undefined()) ours2.add(sym.name() + "@" + String.format("%016x", l.symbolValues()[sym.index()]));
            }
            for (String g : guestSymbols.getOrDefault(m, java.util.Set.of())) {
                assertTrue(ours2.contains(g), m + ": the guest's " + g + " is not among our symbols");
                symbolsChecked++;
            }
            // a patch site is left out where the kernel did rewrite it (its bytes differ), and counted
            java.util.Set<Long> patched = new java.util.HashSet<>();
            for (PatchSites.Site site : PatchSites.of(l)) {
                byte[] theirs = guest.read(site.address(), site.size());
                byte[] mine = bytesAt(l, site.address(), site.size());
                sites.merge(site.table(), 1, Integer::sum);
                if (theirs == null || mine == null || java.util.Arrays.equals(theirs, mine)) continue;
                masked.merge(site.table(), 1, Integer::sum);
                for (int k = 0; k < site.size(); k++) patched.add(site.address() + k);
            }
            for (ModuleLayout.Placed p : layout.sections()) {
                if (p.size() == 0 || !given.containsKey(p.name()) || p.nobits(f)) continue;   // (reserved space is not in /sys/module)
                byte[] theirs = guest.read(p.address(), (int) p.size());
                byte[] mine = l.sections().get(p.index());
                if (theirs == null) continue;   // freed (init) or not mapped
                int differ = 0;
                for (int i = 0; i < mine.length; i++) {
                    if (mine[i] != theirs[i] && !patched.contains(p.address() + i)) {
                        differ++;
                        if (compared(p.name(), p.flags(f)) && report.size() < 20) {
                            report.add(String.format("%s %s+0x%x: ours %02x, the guest's %02x", m, p.name(), i, mine[i], theirs[i]));
                        }
                    }
                }
                if (compared(p.name(), p.flags(f))) {
                    comparedBytes += mine.length;
                } else if ((p.flags(f) & ElfSectionHeader.SHF_WRITE) != 0) {
                    dataBytes += mine.length;
                    dataDiffer += differ;
                }
            }
        }
        System.out.printf("%d modules, %d bytes of code and read-only data compared; patch sites the kernel rewrote, of those the tables name: %s of %s;"
                + " data: %d of %d bytes written since%n", loaded.size(), comparedBytes, masked, sites, dataDiffer, dataBytes);
        assertTrue(report.isEmpty(), report.size() + " bytes differ: " + report);
        assertTrue(comparedBytes > (arm64 ? 500_000 : 2_000_000), comparedBytes + " bytes");
        System.out.printf("%d module symbols of the guest's /proc/kallsyms at our addresses%n", symbolsChecked);
        assertTrue(symbolsChecked > (arm64 ? 4_000 : 10_000), symbolsChecked + " symbols");
    }

    /**
     * Where the kernel put the module's per-cpu data (percpu_modalloc: /sys/module does not say):
     * struct module's percpu pointer, read from the guest's struct module (its
     * .gnu.linkonce.this_module section), at the member's offset in the kernel's BTF. Every
     * place that refers to the per-cpu data is then compared with the rest.
     */
    static long perCpuBase(KernelModuleFile f, Map<String, Long> given, Guest guest, kernelloader.btf.Btf btf) throws Exception {
        if (f.section(".data..percpu") < 0) return 0;
        Long module = given.get(".gnu.linkonce.this_module");
        assertTrue(module != null, f.name() + ": the guest gives struct module's address");
        kernelloader.btf.BtfType struct = btf.named("module").stream().filter(t -> t.kind() == kernelloader.btf.BtfKind.STRUCT)
                .findFirst().orElseThrow();
        long offset = struct.members().stream().filter(m -> m.name().equals("percpu")).findFirst().orElseThrow().bitOffset() / 8;
        byte[] b = guest.read(module + offset, 8);
        assertTrue(b != null, f.name() + ": struct module is mapped");
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Our linked bytes at {@code va} (in one section), or null. */
    static byte[] bytesAt(ModuleLinker.Linked l, long va, int n) {
        for (ModuleLayout.Placed p : l.layout().sections()) {
            byte[] b = l.sections().get(p.index());
            if (b != null && Long.compareUnsigned(va - p.address(), b.length) < 0 && va - p.address() + n <= b.length) {
                return java.util.Arrays.copyOfRange(b, (int) (va - p.address()), (int) (va - p.address()) + n);
            }
        }
        return null;
    }


    /** The guest's kernel virtual memory. */
    interface Guest {
        /** {@code n} bytes at virtual {@code va}, or null where any of them is not mapped. */
        byte[] read(long va, int n) throws Exception;
    }

    /**
     * An arm64 guest's virtual memory: its raw physical dump (pmemsave, from the RAM's start)
     * through its own page tables, swapper_pg_dir, found by its kallsyms address and the image's
     * physical address, the VA size from VMCOREINFO's TCR_EL1_T1SZ.
     */
    static Guest pageTables(Kernel running, Path raw) throws Exception {
        RunningKernel rk = running.running().get();
        Long t1sz = rk.vmcoreinfo().number("TCR_EL1_T1SZ");
        assertTrue(t1sz != null, "the guest's VMCOREINFO gives TCR_EL1_T1SZ: " + rk.vmcoreinfo().where());
        long root = rk.physicalOf(running.kallsyms().get().addressOf("swapper_pg_dir"));
        long start = rk.dumpStart();
        FileChannel ch = FileChannel.open(raw);
        Arm64PageTables tables = Arm64PageTables.of((pa, n) -> {
            if (pa < start || pa - start + n > ch.size()) return null;
            ByteBuffer b = ByteBuffer.allocate(n);
            ch.read(b, pa - start);
            return b.array();
        }, root, (int) (long) t1sz);
        System.out.printf("%s: %d-bit kernel addresses, %d levels from swapper_pg_dir at physical 0x%x%n", raw, tables.vaBits(),
                tables.levels(), root);
        return tables::read;
    }

    /** The guest's virtual memory in a paging ELF core: PT_LOAD segments at virtual addresses. */
    static final class GuestMemory implements Guest {
        private final FileChannel ch;
        private final List<ElfProgramHeader> loads = new ArrayList<>();

        GuestMemory(Path core) throws Exception {
            ch = FileChannel.open(core);
            ByteBuffer head = ByteBuffer.allocate(64);
            ch.read(head, 0);
            ByteBuffer h = ByteBuffer.wrap(head.array()).order(ByteOrder.LITTLE_ENDIAN);
            long phoff = h.getLong(32);
            int phnum = h.getShort(56) & 0xffff;
            if (phnum == 0xffff) {   // PN_XNUM: the count is in section 0's sh_info
                ByteBuffer s0 = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(s0, h.getLong(40));
                phnum = s0.getInt(44);
            }
            ByteBuffer ph = ByteBuffer.allocate(56 * phnum).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(ph, phoff);
            for (int i = 0; i < phnum; i++) {
                int p = 56 * i;
                if (ph.getInt(p) != ElfHeader.PT_LOAD) continue;
                loads.add(new ElfProgramHeader(ph.getInt(p), ph.getInt(p + 4), ph.getLong(p + 8), ph.getLong(p + 16), ph.getLong(p + 24),
                        ph.getLong(p + 32), ph.getLong(p + 40), ph.getLong(p + 48)));
            }
        }

        @Override
        public byte[] read(long va, int n) throws Exception {
            byte[] out = new byte[n];
            int done = 0;
            while (done < n) {
                long a = va + done;
                ElfProgramHeader seg = null;
                for (ElfProgramHeader p : loads) if (Long.compareUnsigned(a - p.vaddr(), p.fileSize()) < 0) { seg = p; break; }
                if (seg == null) return null;
                int take = (int) Math.min(n - done, seg.fileSize() - (a - seg.vaddr()));
                ch.read(ByteBuffer.wrap(out, done, take), seg.offset() + (a - seg.vaddr()));
                done += take;
            }
            return out;
        }
    }
}
