package kernelloader.ghidra;

import java.io.ByteArrayInputStream;

import ghidra.app.util.MemoryBlockUtils;
import ghidra.app.util.importer.MessageLog;
import ghidra.framework.options.Options;
import ghidra.program.model.address.Address;
import ghidra.program.model.address.AddressSet;
import ghidra.program.model.address.AddressSpace;
import ghidra.program.model.listing.CodeUnit;
import ghidra.program.model.listing.FunctionManager;
import ghidra.program.model.listing.Listing;
import ghidra.program.model.listing.Program;
import ghidra.program.model.mem.MemoryBlock;
import ghidra.program.model.symbol.SourceType;
import ghidra.program.model.symbol.Symbol;
import ghidra.program.model.symbol.SymbolTable;
import ghidra.util.task.TaskMonitor;
import kernelloader.core.KernelModel;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.KernelExport;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;

/**
 * Translates the core's view of a kernel into a Ghidra program: memory blocks, labels,
 * functions, entry point and Program Information. It decides nothing about the kernel.
 */
final class KernelProgramBuilder {
    /** What was created, for logs and summaries. */
    record Counts(int labels, int functions) {}

    private KernelProgramBuilder() {}

    static int createBlocks(Program program, KernelModel m, KernelLayout layout, MessageLog log, TaskMonitor monitor)
            throws Exception {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        // before any block exists: on a program with blocks, setting the image base moves them
        program.setImageBase(space.getAddress(layout.base().value()), true);
        int blocks = 0;
        for (MemoryRegion r : layout.regions()) {
            monitor.checkCancelled();
            Address start = space.getAddress(r.start());
            boolean read = r.permissions().charAt(0) == 'r', write = r.permissions().charAt(1) == 'w',
                    exec = r.permissions().charAt(2) == 'x';
            MemoryBlock b;
            if (r.initialized()) {
                ByteArrayInputStream in = new ByteArrayInputStream(m.image().data(), (int) r.fileOffset(), (int) r.size());
                b = MemoryBlockUtils.createInitializedBlock(program, false, r.name(), start, in, r.size(),
                        "image offset 0x" + Long.toHexString(r.fileOffset()), "LinuxKernelLoader", read, write, exec, log, monitor);
            } else {
                b = MemoryBlockUtils.createUninitializedBlock(program, false, r.name(), start, r.size(),
                        "uninitialised (bss)", "LinuxKernelLoader", read, write, exec, log);
            }
            if (b != null) blocks++;
        }
        return blocks;
    }

    /** Labels for every symbol (globals primary where names share an address), functions for text. */
    static Counts applySymbols(Program program, KallsymsTable k, boolean createFunctions, TaskMonitor monitor)
            throws Exception {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        SymbolTable st = program.getSymbolTable();
        FunctionManager fm = program.getFunctionManager();
        int labels = 0, functions = 0;
        monitor.initialize(k.size());
        monitor.setMessage("Creating kallsyms labels");
        for (int i = 0; i < k.size(); i++) {
            if ((i & 0xfff) == 0) {
                monitor.checkCancelled();
                monitor.setProgress(i);
            }
            char t = k.type(i);
            Address a = space.getAddress(k.address(i));
            MemoryBlock block = program.getMemory().getBlock(a);
            // A text symbol becomes a function directly: its function symbol is its label. (Making
            // the label first costs a symbol-table insert and a delete per function: a third of
            // an amd64 import.)
            if (createFunctions && (t == 't' || t == 'T') && block != null && block.isExecute() && fm.getFunctionAt(a) == null) {
                try {
                    ghidra.program.model.listing.Function f = fm.createFunction(k.name(i), a, new AddressSet(a), SourceType.IMPORTED);
                    functions++;
                    labels++;
                    if (Character.isUpperCase(t)) f.getSymbol().setPrimary();
                    continue;
                } catch (ghidra.util.exception.InvalidInputException | ghidra.program.database.function.OverlappingFunctionException e) {
                    // a name Ghidra will not take for a function: it stays a label
                }
            }
            // (also outside the blocks: end markers such as _end, gaps between sections)
            Symbol s = st.createLabel(a, k.name(i), SourceType.IMPORTED);
            labels++;
            if (Character.isUpperCase(t)) s.setPrimary();
        }
        return new Counts(labels, functions);
    }

    /** What marking the exports did: marked in place, labels added (names kallsyms lacks), left out. */
    record ExportCounts(int marked, int labelled, int unplaced) {}

    /**
     * Marks every exported symbol: a plate comment with its export kind, namespace and CRC (what
     * Module.symvers says of it), and a label where kallsyms has none (exported data of kernels
     * built without KALLSYMS_ALL). Exports whose value lies outside the program (per-cpu offsets)
     * are placed by their kallsyms name, or left out.
     */
    static ExportCounts markExports(Program program, ExportTable t, KallsymsTable k, TaskMonitor monitor) throws Exception {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        SymbolTable st = program.getSymbolTable();
        Listing listing = program.getListing();
        int marked = 0, labelled = 0, unplaced = 0;
        monitor.setMessage("Marking exported symbols");
        for (KernelExport e : t.exports()) {
            if ((marked & 0x3ff) == 0) monitor.checkCancelled();
            Address a = e.value() == 0 ? null : addressOrNull(space, e.value());
            if (a == null || !program.getMemory().contains(a)) {
                Long byName = k == null ? null : k.addressOf(e.name());
                a = byName == null ? null : addressOrNull(space, byName);
            }
            if (a == null || !program.getMemory().contains(a)) {
                unplaced++;
                continue;
            }
            if (st.getGlobalSymbol(e.name(), a) == null) {
                st.createLabel(a, e.name(), SourceType.IMPORTED);
                labelled++;
            }
            String text = e.kind().name() + "(" + e.name() + ")" + (e.namespace().isEmpty() ? "" : " in namespace " + e.namespace())
                    + (t.hasCrcs() ? String.format(", CRC 0x%08x", e.crc()) : "");
            String old = listing.getComment(CodeUnit.PLATE_COMMENT, a);
            listing.setComment(a, CodeUnit.PLATE_COMMENT, old == null || old.isEmpty() ? text : old + "\n" + text);
            marked++;
        }
        return new ExportCounts(marked, labelled, unplaced);
    }

    private static Address addressOrNull(AddressSpace space, long offset) {
        try {
            return space.getAddress(offset);
        } catch (ghidra.program.model.address.AddressOutOfBoundsException e) {
            return null;
        }
    }

    /** "11245: 5091 EXPORT_SYMBOL, 6154 EXPORT_SYMBOL_GPL; PREL32 offsets (...); CRCs: 32-bit values". */
    static String describeExports(ExportTable t) {
        StringBuilder sb = new StringBuilder().append(t.exports().size()).append(':');
        t.countsByKind().forEach((kind, n) -> sb.append(sb.charAt(sb.length() - 1) == ':' ? " " : ", ").append(n).append(' ').append(kind));
        return sb.append("; ").append(t.format().describe()).append(" at 0x").append(Long.toHexString(t.ksymtabAddress()))
                .append("; CRCs: ").append(t.crcs().description).toString();
    }

    static void recordInfo(Program program, KernelModel m, KernelLayout layout, Counts c) {
        Options info = program.getOptions(Program.PROGRAM_INFO);
        KallsymsTable k = m.kallsyms();
        if (m.versionBanner() != null) info.setString("Linux kernel version", m.versionBanner());
        info.setString("Linux kernel layers", m.image().describeLayers());
        info.setString("Linux kallsyms layout", k.layout().era() + ", " + k.layout().encoding().description()
                + ", " + k.size() + " symbols");
        info.setString("Linux kallsyms addresses", k.baseEvidence());
        info.setString("Linux base address evidence", layout.base().evidence() + " [" + layout.base().confidence() + "]");
        if (layout.arch() != null) info.setString("Linux architecture evidence", layout.arch().evidence());
        info.setInt("Linux kallsyms labels", c.labels());
    }
}
