package kernelloader.ghidra;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ghidra.app.util.MemoryBlockUtils;
import ghidra.app.util.importer.MessageLog;
import ghidra.framework.options.Options;
import ghidra.program.disassemble.Disassembler;
import ghidra.program.model.address.Address;
import ghidra.program.model.address.AddressSet;
import ghidra.program.model.address.AddressSpace;
import ghidra.program.model.listing.CodeUnit;
import ghidra.program.model.listing.Function;
import ghidra.program.model.listing.FunctionManager;
import ghidra.program.model.listing.Program;
import ghidra.program.model.mem.MemoryBlock;
import ghidra.program.model.reloc.Relocation;
import ghidra.program.model.reloc.RelocationTable;
import ghidra.program.model.symbol.SourceType;
import ghidra.program.model.symbol.Symbol;
import ghidra.program.model.symbol.SymbolTable;
import ghidra.util.task.TaskMonitor;
import kernelloader.btf.Btf;
import kernelloader.image.ElfSectionHeader;
import kernelloader.ksymtab.KernelExport;
import kernelloader.module.KernelModuleFile;
import kernelloader.module.LinkedSymbol;
import kernelloader.module.ModuleLayout;
import kernelloader.module.ModuleLinker;
import kernelloader.module.ModuleRelocation;

/**
 * Adds a module the core linked ({@link ModuleLinker.Linked}) to a program that holds its
 * kernel, in a fixed order: a memory block per loaded section at its linked address, holding
 * the relocated bytes; each relocation in the program's relocation table (type, value, the
 * bytes the file had); the module's symbols as labels and its functions disassembled, so that
 * its calls land on the kernel's functions in the same program; its exports marked; its split
 * BTF's types and prototypes over the kernel's; what was linked in Program Information. It
 * decides nothing: the layout, the imports and the relocated bytes are the core's.
 */
final class ModuleProgramBuilder {
    /** What was added, for the log and Program Information. */
    record Counts(int blocks, List<String> skipped, int labels, int functions, int disassembled, int relocations, int exports, String btf) {}

    private ModuleProgramBuilder() {}

    static Counts add(String who, Program program, ModuleLinker.Linked l, Btf kernelBtf, TaskMonitor monitor, MessageLog log) throws Exception {
        KernelModuleFile m = l.module();
        monitor.setMessage("Adding module " + m.name());
        List<String> skipped = new ArrayList<>();
        int blocks = createBlocks(program, l, skipped, log, monitor);
        int relocations = recordRelocations(program, l);
        List<LinkedSymbol> symbols = LinkedSymbol.of(l);
        int[] made = applySymbols(program, symbols);
        int disassembled = disassemble(program, symbols, monitor);
        int exports = markExports(program, l);
        String btf = applyBtf(program, m, kernelBtf, symbols, monitor);
        Counts c = new Counts(blocks, skipped, made[0], made[1], disassembled, relocations, exports, btf);
        Options info = program.getOptions(Program.PROGRAM_INFO);
        info.setString("Linux module " + m.name(), describe(l, c));
        return c;
    }

    /** One line of what the module is and what was made of it. */
    static String describe(ModuleLinker.Linked l, Counts c) {
        KernelModuleFile m = l.module();
        Map<String, Integer> from = new java.util.TreeMap<>();
        for (ModuleLinker.Import im : l.imports()) from.merge(im.from(), 1, Integer::sum);
        return m.source() + (m.modinfo().get("vermagic") == null ? "" : " (" + m.modinfo().get("vermagic") + ")") + ": "
                + c.blocks() + " sections from 0x" + Long.toHexString(lowest(l)) + ", " + l.imports().size() + " imports " + from + ", "
                + l.relocations() + " relocations applied " + l.relocationCounts() + ", " + c.labels() + " labels, " + c.functions()
                + " functions (" + c.disassembled() + " disassembled), " + c.exports() + " exports; BTF: " + c.btf()
                + (c.skipped().isEmpty() ? "" : "; not placed: " + String.join(", ", c.skipped()))
                + (l.unresolved().isEmpty() ? "" : "; unknown symbols (the kernel would refuse it): " + String.join(", ", l.unresolved()))
                + (l.refusals().isEmpty() ? "" : "; the kernel would refuse it: " + String.join("; ", l.refusals()));
    }

    private static long lowest(ModuleLinker.Linked l) {
        return l.layout().sections().stream().filter(p -> p.size() > 0).mapToLong(ModuleLayout.Placed::address)
                .reduce((a, b) -> Long.compareUnsigned(a, b) < 0 ? a : b).orElse(0);
    }

    /**
     * A block per loaded, non-empty section, named MODULE:SECTION. A section whose addresses the
     * program has already (the per-cpu section, placed at the kernel's own per-cpu area) is
     * left out and named in the log: its bytes are the kernel's there.
     */
    private static int createBlocks(Program program, ModuleLinker.Linked l, List<String> skipped, MessageLog log, TaskMonitor monitor)
            throws Exception {
        KernelModuleFile m = l.module();
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        List<ModuleLayout.Placed> placed = new ArrayList<>(l.layout().sections());
        placed.sort(Comparator.comparingLong(ModuleLayout.Placed::address));
        int blocks = 0;
        for (ModuleLayout.Placed p : placed) {
            monitor.checkCancelled();
            if (p.size() == 0) continue;
            Address start = space.getAddress(p.address());
            Address end = start.add(p.size() - 1);
            if (program.getMemory().intersects(start, end)) {
                skipped.add(p.name() + " (0x" + Long.toHexString(p.address()) + ", in memory the program has already)");
                continue;
            }
            long flags = p.flags(m);   // a section's, or for space the architecture reserved (s390's GOT and PLT), its memory's
            boolean write = (flags & ElfSectionHeader.SHF_WRITE) != 0, exec = (flags & ElfSectionHeader.SHF_EXECINSTR) != 0;
            String name = m.name() + ":" + p.name();
            String comment = m.name() + " " + p.name() + " (" + p.type() + "+0x" + Long.toHexString(p.offset()) + ")";
            MemoryBlock b;
            if (p.nobits(m)) {
                b = MemoryBlockUtils.createUninitializedBlock(program, false, name, start, p.size(), comment, "LinuxKernelLoader", true, write, exec, log);
            } else {
                b = MemoryBlockUtils.createInitializedBlock(program, false, name, start, new ByteArrayInputStream(l.sections().get(p.index())),
                        p.size(), comment, "LinuxKernelLoader", true, write, exec, log, monitor);
            }
            if (b != null) blocks++;
        }
        return blocks;
    }

    /** Each relocation of a placed section: the value written (S + A), its type, the bytes the file held there. */
    private static int recordRelocations(Program program, ModuleLinker.Linked l) {
        KernelModuleFile m = l.module();
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        RelocationTable table = program.getRelocationTable();
        int n = 0;
        for (ModuleLayout.Placed p : l.layout().sections()) {
            if (p.reserved() || p.size() == 0 || !program.getMemory().contains(space.getAddress(p.address()))) continue;   // reserved space has no relocations of its own
            ElfSectionHeader s = m.sections().get(p.index());
            MemoryBlock b = program.getMemory().getBlock(space.getAddress(p.address()));
            if (b == null || !b.getName().equals(m.name() + ":" + p.name())) continue;   // not ours (left out above)
            for (ModuleRelocation r : m.relocationsOf(p.index())) {
                if (r.offset() < 0 || r.offset() >= p.size()) continue;
                int width = (int) Math.min(8, p.size() - r.offset());
                byte[] old = s.type() == ElfSectionHeader.SHT_NOBITS ? new byte[width]
                        : Arrays.copyOfRange(m.data(), (int) (s.offset() + r.offset()), (int) (s.offset() + r.offset()) + width);
                String symbol = m.symbols().get(r.symbol()).name();
                table.add(space.getAddress(p.address() + r.offset()), Relocation.Status.APPLIED, r.type(),
                        new long[] {l.symbolValues()[r.symbol()] + r.addend()}, old, symbol.isEmpty() ? null : symbol);
                n++;
            }
        }
        return n;
    }

    /** Labels for the module's symbols (globals primary), functions for its STT_FUNCs. Returns {labels, functions}. */
    private static int[] applySymbols(Program program, List<LinkedSymbol> symbols) throws Exception {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        SymbolTable st = program.getSymbolTable();
        FunctionManager fm = program.getFunctionManager();
        int labels = 0, functions = 0;
        for (LinkedSymbol s : symbols) {
            Address a = space.getAddress(s.address());
            MemoryBlock b = program.getMemory().getBlock(a);
            if (b == null) continue;   // in a section not placed (per-cpu)
            if (s.function() && b.isExecute() && fm.getFunctionAt(a) == null) {
                try {
                    Function f = fm.createFunction(s.name(), a, new AddressSet(a), SourceType.IMPORTED);
                    if (Character.isUpperCase(s.type())) f.getSymbol().setPrimary();
                    functions++;
                    labels++;
                    continue;
                } catch (Exception e) {
                    // a name Ghidra will not take for a function: it stays a label
                }
            }
            if (st.getGlobalSymbol(s.name(), a) != null) continue;
            Symbol label = st.createLabel(a, s.name(), SourceType.IMPORTED);
            if (Character.isUpperCase(s.type())) label.setPrimary();
            labels++;
        }
        return new int[] {labels, functions};
    }

    /** Each function from its entry, to its ELF size (or the next symbol of its section). */
    private static int disassemble(Program program, List<LinkedSymbol> symbols, TaskMonitor monitor) throws Exception {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        long[] starts = symbols.stream().mapToLong(LinkedSymbol::address).sorted().distinct().toArray();
        Disassembler dis = Disassembler.getDisassembler(program, monitor, null);
        int n = 0;
        for (LinkedSymbol s : symbols) {
            if (!s.function()) continue;
            monitor.checkCancelled();
            Address a = space.getAddress(s.address());
            Function f = program.getFunctionManager().getFunctionAt(a);
            MemoryBlock b = program.getMemory().getBlock(a);
            if (f == null || b == null || !b.isInitialized() || program.getListing().getInstructionAt(a) != null) continue;
            long len = s.size();
            if (len <= 0) {
                int i = Arrays.binarySearch(starts, s.address());
                len = i + 1 < starts.length ? starts[i + 1] - s.address() : b.getEnd().getOffset() - s.address() + 1;
            }
            Address last = a.add(Math.max(0, Math.min(len, KernelCode.MAX_BODY) - 1));
            if (!b.contains(last)) last = b.getEnd();
            AddressSet body = dis.disassemble(a, new AddressSet(a, last), true);
            if (body.isEmpty()) continue;
            body.add(a);
            try {
                f.setBody(body);
                n++;
            } catch (Exception e) {
                // overlaps another function: left at its entry
            }
        }
        return n;
    }

    /** A plate comment on each symbol the module exports to the modules after it. */
    private static int markExports(Program program, ModuleLinker.Linked l) {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        int n = 0;
        for (KernelExport e : l.exports()) {
            Address a = space.getAddress(e.value());
            if (!program.getMemory().contains(a)) continue;
            String text = KernelProgramBuilder.exportComment(e, e.crc() != -1) + " by module " + l.module().name();
            String old = program.getListing().getComment(CodeUnit.PLATE_COMMENT, a);
            program.getListing().setComment(a, CodeUnit.PLATE_COMMENT, old == null || old.isEmpty() ? text : old + "\n" + text);
            n++;
        }
        return n;
    }

    /**
     * The module's .BTF, split over the kernel's: its own types added beside the kernel's (a
     * reference to a kernel type is to the one the program has), its functions' prototypes and
     * its variables' types applied at the module's own addresses.
     */
    private static String applyBtf(Program program, KernelModuleFile m, Btf kernelBtf, List<LinkedSymbol> symbols, TaskMonitor monitor)
            throws ghidra.util.exception.CancelledException {
        try {
            if (m.section(".BTF") < 0) return "none (the module has no .BTF)";
            if (kernelBtf == null) return "not applied (its .BTF continues the kernel's, and the kernel has none)";
            Btf btf = m.btf(kernelBtf);
            Map<String, long[]> at = new HashMap<>();
            for (LinkedSymbol s : symbols) {
                long[] old = at.get(s.name());
                at.put(s.name(), old == null ? new long[] {s.address()} : append(old, s.address()));
            }
            BtfApplier.Counts c = BtfApplier.apply(program, btf, wanted -> at, monitor);
            return (btf.lastId() - btf.firstId() + 1) + " types after the kernel's " + (btf.firstId() - 1) + "; " + c.describe();
        } catch (ghidra.util.exception.CancelledException e) {
            throw e;
        } catch (Exception e) {
            return "not applied: " + e.getMessage();
        }
    }

    private static long[] append(long[] a, long v) {
        long[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = v;
        return b;
    }
}
