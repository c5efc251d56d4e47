package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import generic.stl.Pair;
import ghidra.app.util.Option;
import ghidra.app.util.bin.ByteProvider;
import ghidra.app.util.bin.RandomAccessByteProvider;
import ghidra.app.util.importer.MessageLog;
import ghidra.program.model.address.Address;
import ghidra.program.model.address.AddressSpace;
import ghidra.program.model.data.CategoryPath;
import ghidra.program.model.data.DataType;
import ghidra.program.model.data.DataTypeComponent;
import ghidra.program.model.data.Pointer;
import ghidra.program.model.data.Structure;
import ghidra.program.model.listing.Function;
import ghidra.program.model.listing.Instruction;
import ghidra.program.model.listing.Program;
import ghidra.program.model.mem.MemoryBlock;
import ghidra.program.model.symbol.Reference;
import ghidra.util.task.TaskMonitor;
import kernelloader.btf.Btf;
import kernelloader.btf.BtfKind;
import kernelloader.btf.BtfType;
import kernelloader.corpus.Corpus;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.module.DebianModulesTest;
import kernelloader.module.KernelModuleFile;
import kernelloader.module.LoadedModules;
import kernelloader.module.ModuleLayout;
import kernelloader.module.ModuleLinker;

/**
 * Debian's ext4 module (.ko.xz, with the modules its depends= names) imported into the embedded
 * Ghidra with its kernel: the module's sections at the addresses the core lays them out at,
 * holding its relocated bytes; its calls to printk and kmalloc landing on the kernel's functions
 * in the same program; its split BTF's types beside the kernel's (a kernel type it uses is the
 * kernel's own); its functions' prototypes. Then Add To Program of two more modules, one after
 * the other, the second importing the first's exports.
 */
@Tag("corpus")
class ModuleImportTest {
    static final String ID = "trixie-amd64-amd64";

    @Test
    void ext4ImportedWithItsKernel() throws Exception {
        Corpus.Kernel ck = Corpus.kernel(ID);
        Path dir = DebianModulesTest.modulesOf(ID);
        Map<String, String> pathOf = new HashMap<>();
        Map<String, List<String>> deps = new HashMap<>();
        DebianModulesTest.readDependencies(dir, pathOf, deps);
        Path ext4 = dir.resolve(pathOf.get("ext4"));
        List<String> before = new ArrayList<>();
        for (String d : deps.get("ext4")) before.add(dir.resolve(pathOf.get(d)).toString());
        assertTrue(before.size() >= 2, "ext4 needs " + deps.get("ext4"));
        java.util.Collections.reverse(before);   // any order: the loader orders them by depends=

        EmbeddedGhidra.start();
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importWith(ext4.toFile(), LinuxModuleLoader.class,
                List.of(new Pair<>("-loader-kernelFile", ck.image().toString()),
                        new Pair<>("-loader-modulesBefore", String.join(File.pathSeparator, before))), consumer);
        try {
            assertEquals(LinuxModuleLoader.NAME, p.getExecutableFormat(), EmbeddedGhidra.lastLog);
            assertEquals("x86:LE:64:default", p.getLanguageID().getIdAsString());
            AddressSpace space = p.getAddressFactory().getDefaultAddressSpace();

            // what the core links: the same modules, in depends= order, from the default base
            Kernel k = Kernel.read(ck.image(), KernelOptions.DEFAULT);
            LoadedModules expected = LoadedModules.into(k);
            List<KernelModuleFile> files = new ArrayList<>();
            for (String b : before) files.add(KernelModuleFile.read(b, Files.readAllBytes(Path.of(b))));
            for (KernelModuleFile f : LoadedModules.inLoadOrder(files)) expected.load(f, Map.of(), null);
            ModuleLinker.Linked l = expected.load(KernelModuleFile.read(ext4.toString(), Files.readAllBytes(ext4)), Map.of(), null);
            assertTrue(l.loads(), l.unresolved() + " " + l.refusals());

            // every placed section of ext4 is a block at its address, holding the relocated bytes
            int sections = 0;
            for (ModuleLayout.Placed s : l.layout().sections()) {
                if (s.size() == 0 || s.name().equals(".data..percpu")) continue;
                MemoryBlock b = p.getMemory().getBlock("ext4:" + s.name());
                assertNotNull(b, "block ext4:" + s.name() + "; log " + EmbeddedGhidra.lastLog);
                assertEquals(s.address(), b.getStart().getOffset(), s.name());
                if (b.isInitialized()) {
                    byte[] got = new byte[(int) s.size()];
                    b.getBytes(b.getStart(), got);
                    assertArrayEquals(l.sections().get(s.index()), got, s.name());
                }
                sections++;
            }
            assertTrue(sections > 20, sections + " sections");
            for (KernelModuleFile f : files) {
                String info = p.getOptions(Program.PROGRAM_INFO).getString("Linux module " + f.name(), "");
                assertTrue(info.contains("relocations applied"), f.name() + ": " + info);
            }

            // ext4's calls: each call instruction in its text whose target is an import lands on the
            // kernel's function of that name (x86-64 modules call the kernel directly, rel32)
            Map<Long, ModuleLinker.Import> imports = new HashMap<>();
            for (ModuleLinker.Import im : l.imports()) imports.put(im.address(), im);
            MemoryBlock text = p.getMemory().getBlock("ext4:.text");
            Map<String, Integer> reached = new TreeMap<>();
            int calls = 0, fromModules = 0;
            for (Instruction insn : p.getListing().getInstructions(text.getStart(), true)) {
                if (!text.contains(insn.getAddress())) break;
                if (!insn.getFlowType().isCall()) continue;
                for (Address to : insn.getFlows()) {
                    ModuleLinker.Import im = imports.get(to.getOffset());
                    if (im == null) continue;
                    String name = im.name();
                    Function f = p.getFunctionManager().getFunctionAt(to);
                    assertNotNull(f, "a call at " + insn.getAddress() + " to " + name + " reaches a function");
                    MemoryBlock kb = p.getMemory().getBlock(to);
                    // in the text of whoever exports it: the kernel's, or that of a module before (jbd2's)
                    assertTrue(kb.isExecute() && (im.from().equals("vmlinux") ? !kb.getName().contains(":") : kb.getName().startsWith(im.from() + ":")),
                            name + " from " + im.from() + " is in " + kb.getName());
                    assertTrue(p.getSymbolTable().getGlobalSymbol(name, to) != null, "the kernel's label " + name + " at " + to);
                    reached.merge(name, 1, Integer::sum);
                    if (!im.from().equals("vmlinux")) fromModules++;
                    calls++;
                }
            }
            assertTrue(reached.containsKey("_printk"), "ext4 calls _printk: " + reached.keySet());
            assertTrue(reached.keySet().stream().anyMatch(n -> n.startsWith("__kmalloc") || n.startsWith("kmalloc")),
                    "ext4 calls the kmalloc family: " + reached.keySet());
            assertTrue(calls > 1000 && fromModules > 100, calls + " calls to imports, " + fromModules + " of them to jbd2's and mbcache's");
            System.out.printf("ext4 in Ghidra: %d sections, %d calls reach %d imported functions (%d in modules before it; _printk %d)%n",
                    sections, calls, reached.size(), fromModules, reached.get("_printk"));

            // BTF: ext4's own struct, sized as its split BTF says, whose kernel-typed member is the kernel's type
            Btf kernelBtf = k.btf().get().btf();
            Btf btf = KernelModuleFile.read(ext4.toString(), Files.readAllBytes(ext4)).btf(kernelBtf);
            BtfType sbi = btf.named("ext4_sb_info").stream().filter(t -> t.kind() == BtfKind.STRUCT).findFirst().orElseThrow();
            assertTrue(sbi.id() >= btf.firstId(), "ext4_sb_info is ext4's own type");
            DataType dt = p.getDataTypeManager().getDataType(new CategoryPath("/BTF"), "ext4_sb_info");
            assertNotNull(dt, "/BTF/ext4_sb_info");
            assertEquals(sbi.size(), dt.getLength());
            DataType sb = null;
            for (DataTypeComponent c : ((Structure) dt).getDefinedComponents()) {
                if ("s_sb".equals(c.getFieldName())) sb = ((Pointer) c.getDataType()).getDataType();
            }
            assertNotNull(sb, "ext4_sb_info.s_sb");
            assertSame(p.getDataTypeManager().getDataType(new CategoryPath("/BTF"), "super_block"), sb, "s_sb points at the kernel's super_block");
            assertEquals(null, p.getDataTypeManager().getDataType(new CategoryPath("/BTF"), "super_block___2"), "no second super_block");
            // ext4's functions with their BTF prototypes: parameter count and names
            Map<String, Function> inText = new HashMap<>();
            for (Function g : p.getFunctionManager().getFunctions(text.getStart(), true)) {
                if (!text.contains(g.getEntryPoint())) break;
                inText.put(g.getName(), g);
            }
            int typed = 0, untyped = 0;
            Map<String, Integer> protos = new HashMap<>();
            for (BtfType t : btf.types()) if (t.kind() == BtfKind.FUNC) protos.merge(t.name(), 1, Integer::sum);
            for (BtfType t : btf.types()) {
                Function g = inText.get(t.name());
                if (t.kind() != BtfKind.FUNC || protos.get(t.name()) != 1 || g == null) continue;
                List<BtfType.Param> params = btf.type(t.type()).params();
                boolean same = params.size() == g.getParameterCount();
                for (int i = 0; same && i < params.size(); i++) {
                    String want = params.get(i).name().isEmpty() ? "param_" + (i + 1) : params.get(i).name();
                    same = want.equals(g.getParameter(i).getName());
                }
                if (same) typed++;
                else untyped++;
            }
            assertTrue(typed > 500 && untyped * 20 < typed, typed + " ext4 functions with their BTF prototype, " + untyped + " without");
            System.out.printf("ext4 in Ghidra: %d functions with their BTF prototypes (%d not), ext4_sb_info %d bytes%n", typed, untyped, sbi.size());

            addToProgram(p, dir, pathOf);
        } finally {
            p.release(consumer);
        }
    }

    /**
     * `./kallsyms import KERNEL --module stp.ko.xz --module llc.ko.xz`: the kernel's program with
     * both modules linked into it, llc first (stp's depends=), stp's calls to llc's functions
     * landing on them; saved in the project.
     */
    @Test
    @SuppressWarnings("unchecked")
    void importCommandLinksModulesIntoTheKernelsProgram() throws Exception {
        Corpus.Kernel ck = Corpus.kernel(ID);
        Path dir = DebianModulesTest.modulesOf(ID);
        Map<String, String> pathOf = new HashMap<>();
        DebianModulesTest.readDependencies(dir, pathOf, new HashMap<>());
        EmbeddedGhidra.start();
        Path project = kernelloader.TestFiles.tempDir("import-modules").resolve("kernels");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(), err = new java.io.ByteArrayOutputStream();
        int code = kernelloader.cli.KallsymsCli.run(new String[] {"import", ck.image().toString(), "--module",
                dir.resolve(pathOf.get("stp")).toString(), "--module", dir.resolve(pathOf.get("llc")).toString(), "--no-functions", "--no-btf",
                "--project", project.toString(), "--name", "with-stp", "--json"},
                new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8),
                new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString());
        Map<String, Object> r = new com.google.gson.Gson().fromJson(out.toString(java.nio.charset.StandardCharsets.UTF_8).trim(), Map.class);
        assertEquals(2.0, r.get("modules"), r.toString());
        ghidra.base.project.GhidraProject gp = ghidra.base.project.GhidraProject.openProject(project.toString(), "kernels");
        try {
            Program p = gp.openProgram("/", "with-stp", true);
            try {
                String loaded = p.getOptions(Program.PROGRAM_INFO).getString(ModuleLoad.LOADED, "");
                List<String> order = loaded.lines().map(l -> l.split("\t")[0].replaceAll(".*/", "")).toList();
                assertEquals(List.of("llc.ko.xz", "stp.ko.xz"), order, "llc before stp, as stp's depends= needs");
                MemoryBlock stpText = p.getMemory().getBlock("stp:.text"), llcText = p.getMemory().getBlock("llc:.text");
                assertNotNull(stpText);
                assertNotNull(llcText);
                int calls = 0;
                for (Instruction insn : p.getListing().getInstructions(stpText.getStart(), true)) {
                    if (!stpText.contains(insn.getAddress())) break;
                    for (Address to : insn.getFlows()) if (insn.getFlowType().isCall() && llcText.contains(to)) calls++;
                }
                assertTrue(calls > 0, "stp calls into llc's text");
            } finally {
                gp.close(p);
            }
        } finally {
            gp.close();
        }
    }

    /**
     * Add To Program, twice: llc, then stp (whose depends= is llc): stp's imports from llc land
     * on llc's functions in the program, the modules before (ext4 and its dependencies) linked
     * again where they are.
     */
    private static void addToProgram(Program p, Path dir, Map<String, String> pathOf) throws Exception {
        LinuxModuleLoader loader = new LinuxModuleLoader();
        assertTrue(loader.supportsLoadIntoProgram(p));
        for (String name : List.of("llc", "stp")) {
            Path ko = dir.resolve(pathOf.get(name));
            try (ByteProvider bp = new RandomAccessByteProvider(ko.toFile())) {
                var specs = loader.findSupportedLoadSpecs(bp);
                assertEquals(1, specs.size(), name);
                var spec = specs.iterator().next();
                assertEquals(p.getLanguageID(), spec.getLanguageCompilerSpec().languageID, "the module's language is the kernel program's");
                List<Option> options = loader.getDefaultOptions(bp, spec, p, true);
                assertEquals(null, loader.validateOptions(bp, spec, options, p), "the program's own file is the kernel");
                MessageLog log = new MessageLog();
                int tx = p.startTransaction("Add " + name);
                try {
                    ModuleLoad.load(loader.getName(), bp, options, p, TaskMonitor.DUMMY, log);
                } finally {
                    p.endTransaction(tx, true);
                }
            }
        }
        String loaded = p.getOptions(Program.PROGRAM_INFO).getString(ModuleLoad.LOADED, "");
        assertTrue(loaded.lines().anyMatch(l -> l.contains("/ext4.ko")) && loaded.lines().anyMatch(l -> l.contains("/stp.ko")), loaded);
        String stp = p.getOptions(Program.PROGRAM_INFO).getString("Linux module stp", "");
        assertTrue(stp.contains("llc="), "stp imports from llc: " + stp);
        // each of stp's imports from llc is a call to llc's function in the program
        KernelModuleFile stpFile = KernelModuleFile.read("stp", Files.readAllBytes(dir.resolve(pathOf.get("stp"))));
        int checked = 0;
        for (var sym : stpFile.symbols()) {
            if (!sym.undefined()) continue;
            Function target = null;
            for (var s : p.getSymbolTable().getGlobalSymbols(sym.name())) {
                MemoryBlock b = p.getMemory().getBlock(s.getAddress());
                if (b != null && b.getName().startsWith("llc:")) target = p.getFunctionManager().getFunctionAt(s.getAddress());
            }
            if (target == null) continue;   // the kernel's
            int callers = 0;
            for (Reference r : p.getReferenceManager().getReferencesTo(target.getEntryPoint())) {
                if (r.getReferenceType().isCall() && p.getMemory().getBlock(r.getFromAddress()).getName().startsWith("stp:")) callers++;
            }
            assertTrue(callers > 0, "stp calls llc's " + sym.name());
            checked++;
        }
        assertTrue(checked >= 2, checked + " of stp's imports are llc's functions");
    }
}
