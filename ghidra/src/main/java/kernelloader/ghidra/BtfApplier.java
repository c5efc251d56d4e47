package kernelloader.ghidra;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ghidra.program.model.address.Address;
import ghidra.program.model.address.AddressSpace;
import ghidra.program.model.data.DataType;
import ghidra.program.model.data.DataTypeManager;
import ghidra.program.model.data.DataUtilities;
import ghidra.program.model.data.ParameterDefinition;
import ghidra.program.model.listing.Function;
import ghidra.program.model.listing.Parameter;
import ghidra.program.model.listing.ParameterImpl;
import ghidra.program.model.listing.Program;
import ghidra.program.model.listing.ReturnParameterImpl;
import ghidra.program.model.symbol.SourceType;
import ghidra.program.model.symbol.Symbol;
import ghidra.program.model.symbol.SymbolType;
import ghidra.util.task.TaskMonitor;
import kernelloader.btf.Btf;
import kernelloader.btf.BtfKind;
import kernelloader.btf.BtfType;
import kernelloader.kallsyms.KallsymsTable;

/**
 * Applies a kernel's BTF to a program that already has its kallsyms labels: every type into
 * the data type manager ({@link BtfDataTypes}), each FUNC's prototype (return type, parameter
 * names and types) to the function of that name, each VAR's type to the data at its label.
 */
final class BtfApplier {
    /** What was applied, for the log and Program Information. */
    record Counts(int types, int prototypes, int functionsWithout, int ambiguous, int tagged, int variables, int variablesOutside,
                  int membersDropped, List<String> droppedExamples, long millis, long typeMillis) {
        String describe() {
            return types + " types, " + prototypes + " function prototypes (" + functionsWithout + " BTF functions not in the program, "
                    + ambiguous + " names with two prototypes left alone), " + tagged + " function tags (bpf_kfunc, ...), " + variables + " variables typed ("
                    + variablesOutside + " without a label in memory)" + (membersDropped > 0 ? ", " + membersDropped + " members not placed (e.g. " + String.join("; ", droppedExamples) + ")" : "")
                    + "; types " + typeMillis + " ms, prototypes and variables " + (millis - typeMillis) + " ms";
        }
    }

    private BtfApplier() {}

    /**
     * @param kallsyms the kernel's symbols, to find each function by address (the symbol
     *                 table's name index is slow to search 50 000 times); null to search by name
     */
    static Counts apply(Program program, Btf btf, KallsymsTable kallsyms, TaskMonitor monitor) throws Exception {
        return apply(program, btf, kallsyms == null ? null : wanted -> textAddresses(kallsyms, wanted), monitor);
    }

    /**
     * As above, each function and variable found at the addresses {@code addressesOf} gives for
     * the names asked (null: by name in the symbol table; variables it has no address for, too).
     * A module's own symbols are placed this way: its static functions often share a name with
     * one of the kernel's.
     */
    static Counts apply(Program program, Btf btf, java.util.function.Function<Set<String>, Map<String, long[]>> addressesOf,
                        TaskMonitor monitor) throws Exception {
        long t0 = System.nanoTime();
        DataTypeManager dtm = program.getDataTypeManager();
        BtfDataTypes types = BtfDataTypes.create(btf, dtm, monitor);
        int typeCount = types.added().values().stream().mapToInt(Integer::intValue).sum();
        long typeMillis = (System.nanoTime() - t0) / 1_000_000;

        // a name with FUNCs of two different prototypes (static functions of two files) is ambiguous
        Map<String, Integer> protoOf = new HashMap<>();
        List<BtfType> vars = new ArrayList<>();
        for (BtfType t : btf.types()) {
            if (t.kind() == BtfKind.FUNC) protoOf.merge(t.name(), t.type(), (a, b) -> a.equals(b) ? a : -1);
            else if (t.kind() == BtfKind.VAR) vars.add(t);
        }
        Map<String, long[]> addresses = addressesOf == null ? null : addressesOf.apply(protoOf.keySet());
        monitor.setMessage("BTF: applying " + protoOf.size() + " function prototypes");
        monitor.initialize(protoOf.size());
        int applied = 0, without = 0, ambiguous = 0, done = 0;
        for (Map.Entry<String, Integer> e : protoOf.entrySet()) {
            if ((++done & 0x3ff) == 0) {
                monitor.checkCancelled();
                monitor.setProgress(done);
            }
            if (e.getValue() < 0) {
                ambiguous++;
                continue;
            }
            List<Function> fs = addresses == null ? functionsNamed(program, e.getKey()) : functionsAt(program, addresses.get(e.getKey()));
            if (fs.isEmpty()) {
                without++;
                continue;
            }
            BtfType proto = btf.type(e.getValue());
            if (proto == null || proto.kind() != BtfKind.FUNC_PROTO) continue;
            for (Function f : fs) {
                if (applyPrototype(program, f, types, proto)) applied++;
            }
        }
        // declaration tags on functions (bpf_kfunc: callable from BPF programs) become function tags
        int tagged = 0;
        for (BtfType t : btf.types()) {
            if (t.kind() != BtfKind.DECL_TAG || t.componentIndex() != -1 || t.name().isEmpty()) continue;
            BtfType target = btf.type(t.type());
            if (target == null || target.kind() != BtfKind.FUNC) continue;
            List<Function> fs = addresses == null ? functionsNamed(program, target.name()) : functionsAt(program, addresses.get(target.name()));
            for (Function f : fs) if (f.addTag(t.name())) tagged++;
        }
        int typed = 0, outside = 0;
        for (BtfType v : vars) {
            long[] at = addresses == null ? null : addresses.get(v.name());
            Address a = at != null ? program.getAddressFactory().getDefaultAddressSpace().getAddress(at[0]) : labelOf(program, v.name());
            DataType dt = types.valueType(v.type());
            if (a == null || program.getMemory().getBlock(a) == null || dt.getLength() <= 0
                    || program.getMemory().getBlock(a.add(Math.max(0, dt.getLength() - 1))) == null) {
                outside++;
                continue;
            }
            try {
                DataUtilities.createData(program, a, dt, -1, false, DataUtilities.ClearDataMode.CLEAR_ALL_CONFLICT_DATA);
                typed++;
            } catch (Exception e) {
                outside++;
            }
        }
        return new Counts(typeCount, applied, without, ambiguous, tagged, typed, outside, types.membersDropped(), types.droppedExamples(),
                (System.nanoTime() - t0) / 1_000_000, typeMillis);
    }

    private static boolean applyPrototype(Program program, Function f, BtfDataTypes types, BtfType proto) {
        try {
            ParameterDefinition[] defs = types.parameters(proto);
            List<Parameter> params = new ArrayList<>(defs.length);
            for (int i = 0; i < defs.length; i++) {
                String name = defs[i].getName() == null ? "param_" + (i + 1) : defs[i].getName();
                params.add(new ParameterImpl(name, defs[i].getDataType(), program, SourceType.IMPORTED));
            }
            ReturnParameterImpl ret = new ReturnParameterImpl(types.valueType(proto.type()), program);
            // the compiler spec's default convention: with none, Ghidra locks parameter storage it
            // cannot place ("Unknown calling convention -- yet parameter storage is locked")
            String cc = program.getCompilerSpec().getDefaultCallingConvention().getName();
            f.updateFunction(cc, ret, params, Function.FunctionUpdateType.DYNAMIC_STORAGE_ALL_PARAMS, true, SourceType.IMPORTED);
            List<BtfType.Param> ps = proto.params();
            f.setVarArgs(!ps.isEmpty() && ps.get(ps.size() - 1).type() == 0);
            return true;
        } catch (Exception e) {
            return false;   // a parameter name clashing with a local, a type the storage cannot hold: left as it was
        }
    }

    /** Addresses of the kallsyms symbols whose names BTF has functions for. */
    private static Map<String, long[]> textAddresses(KallsymsTable k, Set<String> wanted) {
        Map<String, long[]> m = new HashMap<>(wanted.size() * 2);
        for (int i = 0; i < k.size(); i++) {
            String n = k.name(i);
            if (!wanted.contains(n)) continue;
            long[] old = m.get(n);
            if (old == null) {
                m.put(n, new long[] {k.address(i)});
            } else {
                long[] grown = Arrays.copyOf(old, old.length + 1);
                grown[old.length] = k.address(i);
                m.put(n, grown);
            }
        }
        return m;
    }

    private static List<Function> functionsAt(Program program, long[] addresses) {
        if (addresses == null) return List.of();
        List<Function> out = new ArrayList<>(addresses.length);
        AddressSpace space = program.getAddressFactory().getDefaultAddressSpace();
        for (long a : addresses) {
            Function f = program.getFunctionManager().getFunctionAt(space.getAddress(a));
            if (f != null) out.add(f);
        }
        return out;
    }

    private static List<Function> functionsNamed(Program program, String name) {
        List<Function> out = new ArrayList<>(1);
        for (Symbol s : program.getSymbolTable().getGlobalSymbols(name)) {
            if (s.getSymbolType() == SymbolType.FUNCTION) {
                Function f = program.getFunctionManager().getFunctionAt(s.getAddress());
                if (f != null) out.add(f);
            }
        }
        return out;
    }

    private static Address labelOf(Program program, String name) {
        for (Symbol s : program.getSymbolTable().getGlobalSymbols(name)) {
            if (s.getSymbolType() == SymbolType.LABEL) return s.getAddress();
        }
        return null;
    }
}
