package kernelloader.ghidra;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

import ghidra.program.disassemble.Disassembler;
import ghidra.program.model.address.Address;
import ghidra.program.model.address.AddressSet;
import ghidra.program.model.address.AddressSpace;
import ghidra.program.model.data.ArrayDataType;
import ghidra.program.model.data.ByteDataType;
import ghidra.program.model.data.DataType;
import ghidra.program.model.data.DataUtilities;
import ghidra.program.model.data.PointerDataType;
import ghidra.program.model.data.Undefined;
import ghidra.program.model.data.Undefined1DataType;
import ghidra.program.model.lang.Register;
import ghidra.program.model.listing.CodeUnit;
import ghidra.program.model.listing.FlowOverride;
import ghidra.program.model.listing.Function;
import ghidra.program.model.listing.FunctionManager;
import ghidra.program.model.listing.Instruction;
import ghidra.program.model.listing.Program;
import ghidra.program.model.mem.MemoryBlock;
import ghidra.program.model.symbol.SourceType;
import ghidra.util.task.TaskMonitor;
import kernelloader.code.BugTable;
import kernelloader.code.ControlFlow;
import kernelloader.code.DataObjects;
import kernelloader.code.FunctionExtents;
import kernelloader.code.InstructionSet;
import kernelloader.code.SyscallTables;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.layout.KernelLayout;

/**
 * Makes a kernel program ready to read, from what the core's {@link kernelloader.code} says of
 * its code: Thumb-2 text marked as such, the kernel's no-return functions marked and the ones
 * that only look like it (ftrace hooks, mitigation thunks) unmarked, padding and kCFI preambles
 * as data, every function disassembled from its entry with its body bounded by the next symbol,
 * and the syscall tables as typed arrays with each entry's syscall named. Order matters: flow
 * flags before disassembly (a call to panic ends the flow, a call to __fentry__ does not).
 */
final class KernelCode {
    /** What was done, for the log. */
    record Counts(boolean thumb, int noReturn, int returning, int preambles, int disassembled, int instructionsBytes,
                  int warnSites, int warnCalls, int bugSites, int sizedData, List<String> syscallTables, long millis) {
        String describe() {
            return (thumb ? "Thumb-2 text; " : "") + disassembled + " functions disassembled (" + instructionsBytes
                    + " bytes of instructions, each body up to the next symbol); " + noReturn + " no-return functions marked, "
                    + returning + " ftrace hooks and thunks kept returning; " + preambles + " __pfx_/__cfi_ preambles as data; "
                    + (warnSites + bugSites == 0 ? "no __bug_table read; " : "__bug_table: " + warnSites + " WARN sites go on ("
                    + warnCalls + " of their traps made calls), " + bugSites + " BUG sites stop; ")
                    + sizedData + " global data objects sized (to the next symbol; exports kallsyms lacks: a word at most); "
                    + (syscallTables.isEmpty() ? "no syscall table" : "syscall tables " + String.join(", ", syscallTables))
                    + "; " + millis + " ms";
        }
    }

    /** No function is disassembled past this many bytes (the largest kernel functions are under 64 KiB). */
    static final long MAX_BODY = 1 << 20;
    /** Preambles are 16 to 64 bytes; a longer gap to the function is not all preamble. */
    static final long MAX_PREAMBLE = 64;

    private KernelCode() {}

    static Counts apply(Program program, Kernel k, boolean disassemble, TaskMonitor monitor) throws Exception {
        long t0 = System.nanoTime();
        KallsymsTable t = k.kallsyms().get();
        KernelLayout layout = k.layout().get();
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        FunctionManager fm = program.getFunctionManager();
        boolean thumb = InstructionSet.thumb(t, layout.arch() == null ? null : layout.arch().value());
        if (thumb) markThumb(program);

        int noReturn = 0, returning = 0, preambles = 0;
        FunctionExtents extents = FunctionExtents.of(t);
        List<Function> functions = new ArrayList<>();
        java.util.Set<Address> seen = new java.util.HashSet<>();
        monitor.setMessage("Marking no-return functions and preambles");
        for (int i = 0; i < t.size(); i++) {
            if ((i & 0xfff) == 0) monitor.checkCancelled();
            char c = t.type(i);
            if (c != 't' && c != 'T') continue;
            String name = t.name(i);
            Address a = space.getAddress(t.address(i));
            if (ControlFlow.isPreamble(name)) {
                MemoryBlock b = program.getMemory().getBlock(a);
                long len = extents.extent(t.address(i), MAX_PREAMBLE);
                if (b != null && b.isInitialized() && len > 0 && b.contains(a.add(len - 1))
                        && program.getListing().isUndefined(a, a.add(len - 1))) {
                    try {
                        DataUtilities.createData(program, a, new ArrayDataType(ByteDataType.dataType, (int) len, 1), -1, false,
                                DataUtilities.ClearDataMode.CHECK_FOR_SPACE);
                        preambles++;
                    } catch (ghidra.program.model.util.CodeUnitInsertionException e) {
                        // instructions there already (another symbol's code): left as they are
                    }
                }
                continue;
            }
            Function f = fm.getFunctionAt(a);
            if (f == null) continue;
            if (ControlFlow.neverReturns(name)) {
                f.setNoReturn(true);
                noReturn++;
            } else if (ControlFlow.alwaysReturns(name)) {
                f.setNoReturn(false);
                returning++;
            }
            if (seen.add(a)) functions.add(f);   // once, also where several names share the entry
        }

        int disassembled = 0, bytes = 0;
        if (disassemble) {
            // each function from its entry, flow bounded by the next symbol: no call taken for one
            // that returns runs a function into the next
            monitor.setMessage("Disassembling " + functions.size() + " functions");
            monitor.initialize(functions.size());
            Disassembler dis = Disassembler.getDisassembler(program, monitor, null);
            int n = 0;
            for (Function f : functions) {
                if ((++n & 0x3ff) == 0) {
                    monitor.checkCancelled();
                    monitor.setProgress(n);
                }
                Address a = f.getEntryPoint();
                MemoryBlock b = program.getMemory().getBlock(a);
                if (b == null || !b.isInitialized() || !b.isExecute() || program.getListing().getInstructionAt(a) != null) continue;
                long len = extents.extent(a.getOffset(), MAX_BODY);
                Address last = a.add(Math.max(0, len - 1));
                if (!b.contains(last)) last = b.getEnd();
                AddressSet body = dis.disassemble(a, new AddressSet(a, last), true);
                if (body.isEmpty()) continue;
                body.add(a);
                try {
                    f.setBody(body);
                    disassembled++;
                    bytes += (int) body.getNumAddresses();
                } catch (Exception e) {
                    // overlaps a function another symbol made at a shared address: left at its entry
                }
            }
        }
        int[] warn = disassemble ? markWarnSites(program, t, layout, k, extents, monitor) : new int[] {0, 0, 0};
        int sized = sizeData(program, k, t, monitor);

        List<String> tables = new ArrayList<>();
        for (SyscallTables.Table st : SyscallTables.find(t, layout, k.relocated())) {
            monitor.checkCancelled();
            if (markSyscallTable(program, st)) tables.add(st.name() + "[" + st.entries().size() + "]");
        }
        return new Counts(thumb, noReturn, returning, preambles, disassembled, bytes, warn[0], warn[1], warn[2], sized, tables,
                (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * WARN() sites from the kernel's __bug_table ({@link BugTable}): the code goes on after their
     * trap. Where the language makes that trap an indirect jump (AARCH64's {@code brk}), the
     * instruction's flow is overridden to a call, which returns, and the code after it is
     * disassembled into the function; x86's {@code ud2} is a jump to itself in Ghidra's
     * language, which no flow override changes: left as it is. Returns {WARN sites, of them
     * made calls, BUG sites}.
     */
    private static int[] markWarnSites(Program program, KallsymsTable t, KernelLayout layout, Kernel k, FunctionExtents extents,
                                       TaskMonitor monitor) throws Exception {
        BugTable.Found bugs = BugTable.find(t, layout, k.relocated());
        if (bugs == null) return new int[] {0, 0, 0};
        monitor.setMessage("Marking " + bugs.sites().size() + " WARN and BUG sites");
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        Disassembler dis = Disassembler.getDisassembler(program, monitor, null);
        int warnings = 0, calls = 0, n = 0;
        for (BugTable.Site site : bugs.sites()) {
            if ((n++ & 0x3ff) == 0) monitor.checkCancelled();
            if (!site.warning()) continue;
            warnings++;
            Address a = space.getAddress(site.address());
            Instruction in = program.getListing().getInstructionAt(a);
            if (in == null || !in.getFlowType().isJump() || !in.getFlowType().isComputed()) continue;
            in.setFlowOverride(FlowOverride.CALL);
            calls++;
            Function f = program.getFunctionManager().getFunctionContaining(a);
            Address next = in.getMaxAddress().next();
            if (f == null || next == null || program.getListing().getInstructionAt(next) != null) continue;
            MemoryBlock b = program.getMemory().getBlock(next);
            if (b == null || !b.isInitialized()) continue;
            Address last = f.getEntryPoint().add(Math.max(0, extents.extent(f.getEntryPoint().getOffset(), MAX_BODY) - 1));
            if (!b.contains(last)) last = b.getEnd();
            if (next.compareTo(last) > 0) continue;
            AddressSet more = dis.disassemble(next, new AddressSet(next, last), true);
            try {
                f.setBody(f.getBody().union(more));
            } catch (Exception e) {
                // the code after the warning runs into another function's body: left out of this one
            }
        }
        return new int[] {warnings, calls, bugs.sites().size() - warnings};
    }

    /**
     * Each global data object gets an undefined value as long as the core says it may be
     * ({@link DataObjects}): an undefined8 for an 8-byte global, undefined1[N] for a larger one,
     * cut at the end of its block. Without a size a label is one byte long to the decompiler,
     * and every wider access to a global (an 8-byte memstart_addr, a function pointer 0xf8 bytes
     * into pv_ops) reads as an overlap: it warns on every function that touches one ("Globals
     * starting with '_' overlap smaller symbols"). Where something is defined already (BTF's
     * per-cpu variables, code) nothing is changed.
     */
    private static int sizeData(Program program, Kernel k, KallsymsTable t, TaskMonitor monitor) throws Exception {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        int sized = 0, n = 0;
        for (DataObjects.DataObject o : DataObjects.of(t, k.exports().orNull(), t.bits() / 8)) {
            if ((n++ & 0xfff) == 0) monitor.checkCancelled();
            Address a = space.getAddress(o.address());
            MemoryBlock b = program.getMemory().getBlock(a);
            if (b == null) continue;
            long len = Math.min(o.length(), b.getEnd().subtract(a) + 1);
            Address end = a.add(len - 1);
            if (!program.getListing().isUndefined(a, end)) continue;
            DataType type = len == 1 || len == 2 || len == 4 || len == 8 ? Undefined.getUndefinedDataType((int) len)
                    : new ArrayDataType(Undefined1DataType.dataType, (int) len, 1);
            try {
                DataUtilities.createData(program, a, type, -1, false, DataUtilities.ClearDataMode.CHECK_FOR_SPACE);
                sized++;
            } catch (ghidra.program.model.util.CodeUnitInsertionException e) {
                // a data symbol inside code (ARM literal pools): left as it is
            }
        }
        return sized;
    }

    /** The ARM language's TMode context register set over every executable block. */
    private static void markThumb(Program program) throws Exception {
        Register tmode = program.getProgramContext().getRegister("TMode");
        if (tmode == null) return;
        for (MemoryBlock b : program.getMemory().getBlocks()) {
            if (b.isExecute()) program.getProgramContext().setValue(tmode, b.getStart(), b.getEnd(), BigInteger.ONE);
        }
    }

    /**
     * The table as an array of function pointers (the kernel's sys_call_ptr_t or syscall_fn_t
     * where BTF brought it), its label kept, each entry commented with its number and syscall.
     */
    private static boolean markSyscallTable(Program program, SyscallTables.Table st) throws Exception {
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        Address a = space.getAddress(st.address());
        int n = st.entries().size();
        if (program.getMemory().getBlock(a) == null || !program.getMemory().contains(a.add((long) n * st.wordBytes() - 1))) return false;
        DataType element = btfType(program, "sys_call_ptr_t", "syscall_fn_t");
        if (element == null || element.getLength() != st.wordBytes()) element = new PointerDataType(null, st.wordBytes());
        // a table in the text section (32-bit ARM's entry-common.S) may have been run into by a
        // flow: it is data, whatever was disassembled there
        program.getListing().clearCodeUnits(a, a.add((long) n * st.wordBytes() - 1), false);
        DataUtilities.createData(program, a, new ArrayDataType(element, n, st.wordBytes()), -1, false,
                DataUtilities.ClearDataMode.CLEAR_ALL_CONFLICT_DATA);
        if (program.getSymbolTable().getGlobalSymbol(st.name(), a) == null) {
            program.getSymbolTable().createLabel(a, st.name(), SourceType.ANALYSIS);
        }
        for (SyscallTables.Entry e : st.entries()) {
            Address slot = a.add((long) e.number() * st.wordBytes());
            program.getListing().setComment(slot, CodeUnit.EOL_COMMENT, st.name() + "[" + e.number() + "] = " + e.syscall());
            program.getReferenceManager().addMemoryReference(slot, space.getAddress(e.target()),
                    ghidra.program.model.symbol.RefType.DATA, SourceType.ANALYSIS, 0);
        }
        return true;
    }

    private static DataType btfType(Program program, String... names) {
        for (String n : names) {
            List<DataType> found = new ArrayList<>();
            program.getDataTypeManager().findDataTypes(n, found);
            for (DataType d : found) if (d.getCategoryPath().getPath().startsWith("/BTF")) return d;
        }
        return null;
    }
}
