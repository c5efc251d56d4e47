package kernelloader.ghidra;

import java.io.ByteArrayInputStream;
import java.util.Arrays;

import ghidra.app.util.MemoryBlockUtils;
import ghidra.app.util.importer.MessageLog;
import ghidra.framework.options.Options;
import ghidra.program.database.function.OverlappingFunctionException;
import ghidra.program.model.address.Address;
import ghidra.program.model.address.AddressOutOfBoundsException;
import ghidra.program.model.address.AddressSet;
import ghidra.program.model.address.AddressSpace;
import ghidra.program.model.listing.CodeUnit;
import ghidra.program.model.listing.Function;
import ghidra.program.model.listing.FunctionManager;
import ghidra.program.model.listing.Listing;
import ghidra.program.model.listing.Program;
import ghidra.program.model.mem.Memory;
import ghidra.program.model.mem.MemoryBlock;
import ghidra.program.model.reloc.Relocation;
import ghidra.program.model.reloc.RelocationTable;
import ghidra.program.model.symbol.SourceType;
import ghidra.program.model.symbol.Symbol;
import ghidra.program.model.symbol.SymbolTable;
import ghidra.util.exception.CancelledException;
import ghidra.util.exception.InvalidInputException;
import ghidra.util.task.TaskMonitor;
import kernelloader.btf.BtfLocator;
import kernelloader.code.CompilerBanner;
import kernelloader.code.ControlFlow;
import kernelloader.image.Facet;
import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.KernelExport;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;
import kernelloader.reloc.Relocations;
import kernelloader.verify.Check;
import kernelloader.verify.Verification;

/**
 * Translates the core's {@link Kernel} into a Ghidra program, in a fixed order (as Ghidra's
 * ElfProgramBuilder does for an ELF): memory blocks from the image as shipped; relocations
 * written into those blocks and recorded in the program's relocation table; labels and
 * functions; the entry point; Program Information; export marks; BTF types. It decides nothing
 * about the kernel: every fact comes from the model. The analyzer, on a program another loader
 * made, runs the steps after memory.
 */
final class KernelProgramBuilder {
    /** What was created, for logs and summaries. */
    record Counts(int labels, int functions) {}

    /** What marking the exports did: marked in place, labels added (names kallsyms lacks), left out. */
    record ExportCounts(int marked, int labelled, int unplaced) {}

    private KernelProgramBuilder() {}

    /** Fills a new, empty program with the kernel (inside the loader's transaction). */
    static void build(String who, Program program, Kernel k, LoaderOptions.Settings settings, TaskMonitor monitor, MessageLog log)
            throws Exception {
        KernelLayout layout = k.layout().get();
        KallsymsTable symbols = k.kallsyms().get();
        monitor.setMessage("Creating memory blocks");
        int blocks = createBlocks(program, k.image(), layout, log, monitor);
        if (settings.kernel().relocations() && k.relocations().present()) {
            long t0 = System.nanoTime();
            Relocations r = k.relocations().orNull();
            int applied = applyRelocations(program, r, monitor);
            log.appendMsg(who, "applied " + applied + " " + r.typeName() + " relocations (of " + r.count()
                    + " in the table at image offset 0x" + Integer.toHexString(r.tableStart()) + "), "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms");
        }
        Counts c = applySymbols(program, symbols, layout, settings.functions(), monitor);
        markEntry(program, layout.entry().value());
        recordInfo(program, k, c);
        markExports(who, program, k, monitor, log);
        if (settings.btf()) applyBtf(who, program, k, monitor, log);
        if (settings.functions()) applyCode(who, program, k, true, monitor, log);
        // Ghidra's guess at no-return functions takes __fentry__ and the return thunks for such
        // and cuts every caller short; the kernel's real ones are marked from its own list
        program.getOptions(Program.ANALYSIS_PROPERTIES).setBoolean(NO_RETURN_DISCOVERY, false);
        log.appendMsg(who, String.format("%s: %d blocks, %d labels, %d functions; base 0x%x (%s)",
                k.image().describeLayers(), blocks, c.labels(), c.functions(), layout.base().value(), layout.base().evidence()));
        logChecks(who, k, log);
    }

    /** Ghidra's analyzer that guesses no-return functions from their callers (off for our programs). */
    static final String NO_RETURN_DISCOVERY = "Non-Returning Functions - Discovered";

    /** Disassembly, flow flags, preambles and syscall tables ({@link KernelCode}); a failure leaves labels and functions as they are. */
    static void applyCode(String who, Program program, Kernel k, boolean disassemble, TaskMonitor monitor, MessageLog log)
            throws CancelledException {
        try {
            log.appendMsg(who, "code: " + KernelCode.apply(program, k, disassemble, monitor).describe());
        } catch (CancelledException e) {
            throw e;
        } catch (Exception e) {
            log.appendMsg(who, "code: not disassembled: " + e);
        }
    }

    /**
     * The entry point, labelled with the kernel's own symbol there (a function one first:
     * startup_64 rather than _text) made primary, and a function if it is in executable memory.
     */
    static void markEntry(Program program, long entry) throws Exception {
        Address a = program.getAddressFactory().getDefaultAddressSpace().getAddress(entry);
        SymbolTable st = program.getSymbolTable();
        st.addExternalEntryPoint(a);
        Function f = program.getFunctionManager().getFunctionAt(a);
        if (f != null) {
            f.getSymbol().setPrimary();
            return;
        }
        Symbol[] at = st.getSymbols(a);
        if (at.length == 0) {
            st.createLabel(a, "entry", SourceType.IMPORTED).setPrimary();
            return;
        }
        Symbol best = at[0];
        for (Symbol s : at) if (!s.getName().startsWith("_")) best = s;   // startup_64 before _text, _stext
        best.setPrimary();
    }

    /** The content checks the reading passed and the confidence they give, in the import log. */
    static void logChecks(String who, Kernel k, MessageLog log) {
        if (!k.verification().present()) return;
        Verification v = k.verification().orNull();
        log.appendMsg(who, "confidence " + v.confidence() + "; checks:");
        for (Check ch : v.checks()) log.appendMsg(who, "  " + ch);
    }

    static int createBlocks(Program program, KernelImage image, KernelLayout layout, MessageLog log, TaskMonitor monitor)
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
                ByteArrayInputStream in = new ByteArrayInputStream(image.data(), (int) r.fileOffset(), (int) r.size());
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

    /**
     * Writes each relocation's value into program memory as the kernel does at boot, and records
     * it (type, value, the bytes it replaced) in the program's relocation table, as Ghidra's ELF
     * loader does. Each block is read, patched and written back whole (one write per block, not
     * one per relocation: 187 000 small writes took 2 s). Returns how many were applied (places
     * outside initialised memory are not).
     */
    static int applyRelocations(Program program, Relocations r, TaskMonitor monitor) throws Exception {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        Memory memory = program.getMemory();
        RelocationTable table = program.getRelocationTable();
        monitor.setMessage("Applying " + r.typeName() + " relocations");
        int applied = 0;
        for (MemoryBlock b : memory.getBlocks()) {
            monitor.checkCancelled();
            if (!b.isInitialized() || b.getSize() > Integer.MAX_VALUE || !b.getStart().getAddressSpace().equals(space)) continue;
            long start = b.getStart().getOffset(), size = b.getSize();
            byte[] bytes = null;
            for (int i = 0; i < r.count(); i++) {
                long off = r.places()[i] - start;
                if (off < 0 || off + Relocations.WIDTH > size) continue;
                if (bytes == null) {
                    bytes = new byte[(int) size];
                    b.getBytes(b.getStart(), bytes);
                }
                byte[] value = r.bytes(i);
                byte[] old = Arrays.copyOfRange(bytes, (int) off, (int) off + Relocations.WIDTH);
                System.arraycopy(value, 0, bytes, (int) off, Relocations.WIDTH);
                table.add(b.getStart().add(off), Relocation.Status.APPLIED, r.type(), new long[] {r.values()[i]}, old, null);
                if ((++applied & 0xfff) == 0) monitor.checkCancelled();
            }
            if (bytes != null) b.putBytes(b.getStart(), bytes);
        }
        return applied;
    }

    /** Labels for every symbol (globals primary where names share an address), functions for text. */
    static Counts applySymbols(Program program, KallsymsTable k, KernelLayout layout, boolean createFunctions, TaskMonitor monitor)
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
            if (createFunctions && (t == 't' || t == 'T') && !ControlFlow.isPreamble(k.name(i)) && block != null && block.isExecute() && layout.instructionStart(k.address(i))
                    && fm.getFunctionAt(a) == null) {
                try {
                    Function f = fm.createFunction(k.name(i), a, new AddressSet(a), SourceType.IMPORTED);
                    functions++;
                    labels++;
                    if (Character.isUpperCase(t)) f.getSymbol().setPrimary();
                    continue;
                } catch (InvalidInputException | OverlappingFunctionException e) {
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

    /**
     * Marks every exported symbol the model reads (from its relocated view, whatever the program
     * memory holds): a plate comment with its export kind, namespace and CRC, a label where
     * kallsyms has none. Exports are a bonus: a kernel without them (no CONFIG_MODULES) loads,
     * and the log says why.
     */
    static void markExports(String who, Program program, Kernel k, TaskMonitor monitor, MessageLog log) throws Exception {
        long t0 = System.nanoTime();
        Facet<ExportTable> f = k.exports();
        if (!f.present()) {
            log.appendMsg(who, "exports: " + f.why());
            return;
        }
        ExportTable t = f.orNull();
        ExportCounts ec = markExports(program, t, k.kallsyms().orNull(), monitor);
        program.getOptions(Program.PROGRAM_INFO).setString("Linux exports", describeExports(t));
        log.appendMsg(who, "exports: " + ec.marked() + " marked, " + ec.labelled() + " labels added, "
                + ec.unplaced() + " outside the program, " + (System.nanoTime() - t0) / 1_000_000 + " ms; " + describeExports(t));
        for (String w : t.warnings()) log.appendMsg(who, "exports: " + w);
    }

    /**
     * Exports whose value lies outside the program (per-cpu offsets) are placed by their
     * kallsyms name, or left out.
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
            String old = listing.getComment(CodeUnit.PLATE_COMMENT, a);
            String text = exportComment(e, t.hasCrcs());
            listing.setComment(a, CodeUnit.PLATE_COMMENT, old == null || old.isEmpty() ? text : old + "\n" + text);
            marked++;
        }
        return new ExportCounts(marked, labelled, unplaced);
    }

    /** "EXPORT_SYMBOL_GPL(foo) in namespace CXL, CRC 0x1234abcd": what Module.symvers says of it. */
    static String exportComment(KernelExport e, boolean crcs) {
        return e.kind().name() + "(" + e.name() + ")" + (e.namespace().isEmpty() ? "" : " in namespace " + e.namespace())
                + (crcs ? String.format(", CRC 0x%08x", e.crc()) : "");
    }

    /**
     * BTF is a bonus too: a kernel without it (CONFIG_DEBUG_INFO_BTF unset) loads as before, and
     * a blob that will not apply leaves the labels and functions in place.
     */
    static void applyBtf(String who, Program program, Kernel k, TaskMonitor monitor, MessageLog log) throws CancelledException {
        Facet<BtfLocator.Found> f = k.btf();
        if (!f.present()) {
            log.appendMsg(who, "BTF: none (" + f.why() + ")");
            return;
        }
        BtfLocator.Found found = f.orNull();
        try {
            BtfApplier.Counts c = BtfApplier.apply(program, found.btf(), k.kallsyms().orNull(), monitor);
            String what = c.describe() + "; " + found.btf().byteSize() + " bytes of BTF at image offset 0x"
                    + Integer.toHexString(found.offset()) + " (" + found.how() + ")";
            program.getOptions(Program.PROGRAM_INFO).setString("Linux BTF", what);
            log.appendMsg(who, "BTF: " + what + ", " + c.millis() + " ms");
        } catch (CancelledException e) {
            throw e;
        } catch (Exception e) {
            log.appendMsg(who, "BTF: not applied: " + e);
        }
    }

    private static Address addressOrNull(AddressSpace space, long offset) {
        try {
            return space.getAddress(offset);
        } catch (AddressOutOfBoundsException e) {
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

    /** Program Information: what was read and the evidence for it. */
    static void recordInfo(Program program, Kernel k, Counts c) throws Exception {
        Options info = program.getOptions(Program.PROGRAM_INFO);
        KallsymsTable t = k.kallsyms().get();
        KernelLayout layout = k.layout().get();
        if (k.banner().present()) {
            info.setString("Linux kernel version", k.banner().orNull());
            String cc = CompilerBanner.compiler(k.banner().orNull());
            if (cc != null) program.setCompiler(cc);
        }
        info.setString("Linux kernel layers", k.image().describeLayers());
        if (k.verification().present()) info.setString("Linux reading confidence", k.verification().orNull().confidence());
        recordKallsyms(program, t, c);
        info.setString("Linux base address evidence", layout.base().evidence() + " [" + layout.base().confidence() + "]");
        if (layout.arch() != null) info.setString("Linux architecture evidence", layout.arch().evidence());
    }

    /** Program Information about the table itself (also what the analyzer records). */
    static void recordKallsyms(Program program, KallsymsTable t, Counts c) {
        Options info = program.getOptions(Program.PROGRAM_INFO);
        info.setString("Linux kallsyms layout", t.layout() == null ? "no kallsyms; " + t.size() + " symbols from " + t.baseEvidence()
                : t.layout().era() + ", " + t.layout().encoding().description() + ", " + t.size() + " symbols");
        info.setString("Linux kallsyms addresses", t.baseEvidence());
        info.setInt("Linux kallsyms labels", c.labels());
    }
}
