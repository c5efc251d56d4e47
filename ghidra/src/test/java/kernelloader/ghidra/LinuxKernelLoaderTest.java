package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import ghidra.program.model.address.Address;
import ghidra.program.model.listing.Function;
import ghidra.program.model.listing.Program;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.corpus.Corpus;
import kernelloader.kallsyms.KallsymsFinder;

/**
 * File→Import on the embedded Ghidra 10.3, as a user does it: best-guess import of the kernel
 * file as Debian ships it picks our loader, with the right language, a label per kallsyms
 * symbol, the banner bytes at linux_banner and start_kernel a function where it belongs.
 */
@Tag("corpus")
class LinuxKernelLoaderTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "bullseye-armhf-armmp, ARM:LE:32:v8",
        "bookworm-arm64-arm64, AARCH64:LE:64:v8A",
        "trixie-amd64-amd64,   x86:LE:64:default",
    })
    void bestGuessImportUsesOurLoader(String id, String language) throws Exception {
        Corpus.Kernel k = Corpus.kernel(id);
        EmbeddedGhidra.start();
        ExtensionRegistration.register();
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importBestGuess(k.image().toFile(), consumer);
        try {
            assertEquals(LinuxKernelLoader.NAME, p.getExecutableFormat());
            assertEquals(language, p.getLanguageID().getIdAsString());
            Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
            int labels = p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1);
            assertEquals(m.kallsyms().get().size(), labels, "a label per kallsyms symbol; blocks "
                    + java.util.Arrays.toString(p.getMemory().getBlocks()) + "; log: " + EmbeddedGhidra.lastLog);

            Map<String, Long> nm = k.firstAddresses();
            Address banner = p.getAddressFactory().getDefaultAddressSpace().getAddress(nm.get("linux_banner"));
            byte[] b = new byte[14];
            p.getMemory().getBytes(banner, b);
            assertEquals("Linux version ", new String(b, StandardCharsets.ISO_8859_1));
            Address start = p.getAddressFactory().getDefaultAddressSpace().getAddress(nm.get("start_kernel"));
            Function f = p.getFunctionManager().getFunctionAt(start);
            assertNotNull(f, "start_kernel is a function");
            assertEquals("start_kernel", f.getName());
            assertTrue(p.getOptions(Program.PROGRAM_INFO).getString("Linux kernel version", "").startsWith("Linux version"));

            // exports: counted in Program Information, marked with kind and Debian's CRC, labelled where kallsyms lacks them
            java.util.List<String> symvers = java.nio.file.Files.readAllLines(k.dir.resolve("Module.symvers"));
            assertTrue(p.getOptions(Program.PROGRAM_INFO).getString("Linux exports", "").startsWith(symvers.size() + ":"),
                    p.getOptions(Program.PROGRAM_INFO).getString("Linux exports", "-") + "; log: " + EmbeddedGhidra.lastLog);
            String kfree = symvers.stream().filter(l -> l.split("\t")[1].equals("kfree")).findFirst().orElseThrow();
            Address kfreeAt = p.getAddressFactory().getDefaultAddressSpace().getAddress(nm.get("kfree"));
            assertEquals("EXPORT_SYMBOL(kfree), CRC " + kfree.split("\t")[0],
                    p.getListing().getComment(ghidra.program.model.listing.CodeUnit.PLATE_COMMENT, kfreeAt));
            // every export marked, as symvers lists them (the model's exports, read with relocations applied)
            ImportReadsWhatListReadsTest.assertMarksAreSymvers(p, k);
            Address initTask = p.getAddressFactory().getDefaultAddressSpace().getAddress(nm.get("init_task"));
            assertNotNull(p.getSymbolTable().getGlobalSymbol("init_task", initTask), "exported data labelled at nm's address");

            assertBtfApplied(p, k);
        } finally {
            p.release(consumer);
        }
    }

    /**
     * The kernel's BTF, as bpftool reads the -dbg vmlinux's .BTF: every uniquely named struct in
     * /BTF with the kernel's size, and start_kernel, do_sys_open, the kmalloc family and kfree
     * with its prototype (parameter names, count, pointer-ness); a kernel without BTF says so.
     */
    static void assertBtfApplied(Program p, Corpus.Kernel k) throws Exception {
        String info = p.getOptions(Program.PROGRAM_INFO).getString("Linux BTF", null);
        if (!java.nio.file.Files.readAllLines(k.dir.resolve("config")).contains("CONFIG_DEBUG_INFO_BTF=y")) {
            assertEquals(null, info);
            assertTrue(EmbeddedGhidra.lastLog.contains("BTF: none"), EmbeddedGhidra.lastLog);
            return;
        }
        assertNotNull(info, "Linux BTF in Program Information; log: " + EmbeddedGhidra.lastLog);
        kernelloader.corpus.BpftoolRaw raw = new kernelloader.corpus.BpftoolRaw(kernelloader.corpus.BpftoolRaw.truth(k).resolve("bpftool.raw"));
        ghidra.program.model.data.DataTypeManager dtm = p.getDataTypeManager();
        ghidra.program.model.data.CategoryPath btf = new ghidra.program.model.data.CategoryPath("/BTF");

        ghidra.program.model.data.DataType task = dtm.getDataType(btf, "task_struct");
        assertNotNull(task, "struct task_struct");
        assertEquals(raw.only("STRUCT", "task_struct").size(), task.getLength(), "sizeof(struct task_struct)");
        int checked = 0;
        java.util.List<String> wrong = new java.util.ArrayList<>();
        for (kernelloader.corpus.BpftoolRaw.Type t : raw.byId.values()) {
            if (!(t.kind().equals("STRUCT") || t.kind().equals("UNION")) || t.name().isEmpty() || t.name().equals("(anon)") || t.size() == 0
                    || raw.only(t.kind(), t.name()) == null || raw.byName.get(t.name()).size() > 1) continue;
            ghidra.program.model.data.DataType d = dtm.getDataType(btf, t.name());
            checked++;
            if (d == null || d.getLength() != t.size()) wrong.add(t.name() + " " + t.size() + " vs " + (d == null ? "missing" : d.getLength()));
        }
        assertTrue(checked > 5000, checked + " structs");
        assertEquals(java.util.List.of(), wrong.subList(0, Math.min(5, wrong.size())), wrong.size() + " of " + checked + " structs and unions differ");

        int prototypes = 0;
        for (String fn : java.util.List.of("start_kernel", "do_sys_open", "__kmalloc", "__kmalloc_noprof", "kmalloc_trace",
                "kmem_cache_alloc", "kmem_cache_alloc_noprof", "kfree")) {
            kernelloader.corpus.BpftoolRaw.Type func = raw.only("FUNC", fn);
            if (func == null) continue;
            kernelloader.corpus.BpftoolRaw.Type proto = raw.byId.get(func.typeId());
            ghidra.program.model.symbol.Symbol s = p.getSymbolTable().getGlobalSymbols(fn).get(0);
            Function f = p.getFunctionManager().getFunctionAt(s.getAddress());
            assertNotNull(f, fn);
            assertEquals(proto.entries().size(), f.getParameterCount(), fn + " parameters: " + f.getSignature().getPrototypeString());
            for (int i = 0; i < proto.entries().size(); i++) {
                kernelloader.corpus.BpftoolRaw.Entry e = proto.entries().get(i);
                assertEquals(e.name(), f.getParameter(i).getName(), fn + " parameter " + i);
                boolean pointer = raw.byId.containsKey(e.typeId()) && raw.byId.get(e.typeId()).kind().equals("PTR");
                assertEquals(pointer, f.getParameter(i).getDataType() instanceof ghidra.program.model.data.Pointer, fn + " parameter " + e.name());
            }
            int ret = proto.typeId();
            if (ret == 0) assertEquals("void", f.getReturnType().getName(), fn);
            else if (raw.byId.get(ret).kind().equals("PTR")) assertTrue(f.getReturnType() instanceof ghidra.program.model.data.Pointer, fn);
            assertEquals(ghidra.program.model.symbol.SourceType.IMPORTED, f.getSignatureSource(), fn);
            prototypes++;
        }
        assertTrue(prototypes >= 4, prototypes + " of the kmalloc family and friends checked");

        // declaration tags on functions (6.x+: bpf_kfunc) are function tags
        int tags = 0;
        for (kernelloader.corpus.BpftoolRaw.Type t : raw.byId.values()) {
            if (!t.kind().equals("DECL_TAG") || !"-1".equals(t.fields().get("component_idx"))) continue;
            kernelloader.corpus.BpftoolRaw.Type fn = raw.byId.get(t.typeId());
            if (!fn.kind().equals("FUNC") || raw.only("FUNC", fn.name()) == null) continue;
            java.util.List<ghidra.program.model.symbol.Symbol> syms = p.getSymbolTable().getGlobalSymbols(fn.name());
            if (syms.isEmpty()) continue;
            Function f = p.getFunctionManager().getFunctionAt(syms.get(0).getAddress());
            if (f == null) continue;
            assertTrue(f.getTags().stream().anyMatch(g -> g.getName().equals(t.name())), fn.name() + " tagged " + t.name());
            tags++;
        }
        assertEquals(raw.byId.values().stream().anyMatch(t -> t.kind().equals("DECL_TAG")), tags > 0, tags + " function tags checked");
    }

    @org.junit.jupiter.api.Test
    void theUserMayPickAnotherLanguage() throws Exception {
        // what the import dialog's language picker (or analyzeHeadless -processor) does
        Corpus.Kernel k = Corpus.kernel("bullseye-armhf-armmp");
        EmbeddedGhidra.start();
        ExtensionRegistration.register();
        var lang = ghidra.program.util.DefaultLanguageService.getLanguageService()
                .getLanguage(new ghidra.program.model.lang.LanguageID("ARM:LE:32:v7"));
        Object consumer = new Object();
        var results = ghidra.app.util.importer.AutoImporter.importByUsingSpecificLoaderClassAndLcs(k.image().toFile(), null, "/",
                LinuxKernelLoader.class, java.util.List.of(new generic.stl.Pair<>("-loader-" + "createFunctions", "false")),
                lang, lang.getDefaultCompilerSpec(), consumer, new ghidra.app.util.importer.MessageLog(), ghidra.util.task.TaskMonitor.DUMMY);
        Program p = results.getPrimaryDomainObject();
        try {
            assertEquals("ARM:LE:32:v7", p.getLanguageID().getIdAsString());
            assertEquals(43274, p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1));
            assertEquals(0, p.getFunctionManager().getFunctionCount(), "-loader-createFunctions false");
        } finally {
            results.release(consumer);
        }
    }

    @org.junit.jupiter.api.Test
    void theKallsymsTableOptionPicksOneOfSeveralKernels() throws Exception {
        java.io.File dump = kernelloader.TestFiles.twoKernelDump().toFile();
        EmbeddedGhidra.start();
        ExtensionRegistration.register();
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importWith(dump, LinuxKernelLoader.class,
                java.util.List.of(new generic.stl.Pair<>("-loader-kallsymsTable", "1")), consumer);
        try {
            assertEquals(50218, p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1), EmbeddedGhidra.lastLog);
            assertTrue(p.getOptions(Program.PROGRAM_INFO).getString("Linux kernel version", "").startsWith("Linux version 6.1."));
            assertEquals("AARCH64:LE:64:v8A", p.getLanguageID().getIdAsString());
        } finally {
            p.release(consumer);
        }
    }

    @org.junit.jupiter.api.Test
    void aFailedLoadSaysWhyAndLeavesNothingInTheProject() throws Exception {
        // a load that fails half-way (here: a kallsyms table the file does not have) must not
        // leave a half-made program behind
        Corpus.Kernel k = Corpus.kernel("bullseye-armhf-armmp");
        EmbeddedGhidra.start();
        ExtensionRegistration.register();
        java.nio.file.Path dir = kernelloader.TestFiles.tempDir("failed-import");
        ghidra.base.project.GhidraProject project = ghidra.base.project.GhidraProject.createProject(dir.toString(), "p", false);
        try {
            ghidra.app.util.importer.MessageLog log = new ghidra.app.util.importer.MessageLog();
            Object consumer = new Object();
            String why;
            try {
                var results = ghidra.app.util.importer.AutoImporter.importByUsingSpecificLoaderClass(k.image().toFile(),
                        project.getProject(), "/", LinuxKernelLoader.class,
                        java.util.List.of(new generic.stl.Pair<>("-loader-kallsymsTable", "3")), consumer, log,
                        ghidra.util.task.TaskMonitor.DUMMY);
                why = "imported: " + results;
                if (results != null) results.release(consumer);
            } catch (Exception e) {
                why = e.getMessage();
            }
            assertTrue(why.contains("kallsyms table 3 asked for, but only 1 found"), why + " / log: " + log);
            assertEquals(0, project.getProject().getProjectData().getRootFolder().getFiles().length, "files left in the project");
        } finally {
            project.close();
        }
    }
}
