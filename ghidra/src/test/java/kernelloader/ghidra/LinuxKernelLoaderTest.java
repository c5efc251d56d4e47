package kernelloader.ghidra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import generic.stl.Pair;
import ghidra.app.util.importer.MessageLog;
import ghidra.base.project.GhidraProject;
import ghidra.program.model.address.Address;
import ghidra.program.model.data.CategoryPath;
import ghidra.program.model.data.DataType;
import ghidra.program.model.data.DataTypeManager;
import ghidra.program.model.data.Pointer;
import ghidra.program.model.lang.LanguageID;
import ghidra.program.model.listing.CodeUnit;
import ghidra.program.model.listing.Function;
import ghidra.program.model.listing.Program;
import ghidra.program.model.symbol.SourceType;
import ghidra.program.model.symbol.Symbol;
import ghidra.program.util.DefaultLanguageService;
import ghidra.util.task.TaskMonitor;
import kernelloader.TestFiles;
import kernelloader.corpus.BpftoolRaw;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.corpus.Corpus;

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
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importBestGuess(k.image().toFile(), consumer);
        try {
            assertEquals(LinuxKernelLoader.NAME, p.getExecutableFormat());
            assertEquals(language, p.getLanguageID().getIdAsString());
            Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
            int labels = p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1);
            assertEquals(m.kallsyms().get().size(), labels, "a label per kallsyms symbol; blocks "
                    + Arrays.toString(p.getMemory().getBlocks()) + "; log: " + EmbeddedGhidra.lastLog);

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
            List<String> symvers = Files.readAllLines(k.dir.resolve("Module.symvers"));
            assertTrue(p.getOptions(Program.PROGRAM_INFO).getString("Linux exports", "").startsWith(symvers.size() + ":"),
                    p.getOptions(Program.PROGRAM_INFO).getString("Linux exports", "-") + "; log: " + EmbeddedGhidra.lastLog);
            String kfree = symvers.stream().filter(l -> l.split("\t")[1].equals("kfree")).findFirst().orElseThrow();
            Address kfreeAt = p.getAddressFactory().getDefaultAddressSpace().getAddress(nm.get("kfree"));
            assertEquals("EXPORT_SYMBOL(kfree), CRC " + kfree.split("\t")[0],
                    p.getListing().getComment(CodeUnit.PLATE_COMMENT, kfreeAt));
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
        if (!Files.readAllLines(k.dir.resolve("config")).contains("CONFIG_DEBUG_INFO_BTF=y")) {
            assertEquals(null, info);
            assertTrue(EmbeddedGhidra.lastLog.contains("BTF: none"), EmbeddedGhidra.lastLog);
            return;
        }
        assertNotNull(info, "Linux BTF in Program Information; log: " + EmbeddedGhidra.lastLog);
        BpftoolRaw raw = new BpftoolRaw(BpftoolRaw.truth(k).resolve("bpftool.raw"));
        DataTypeManager dtm = p.getDataTypeManager();
        CategoryPath btf = new CategoryPath("/BTF");

        DataType task = dtm.getDataType(btf, "task_struct");
        assertNotNull(task, "struct task_struct");
        assertEquals(raw.only("STRUCT", "task_struct").size(), task.getLength(), "sizeof(struct task_struct)");
        int checked = 0;
        List<String> wrong = new ArrayList<>();
        for (BpftoolRaw.Type t : raw.byId.values()) {
            if (!(t.kind().equals("STRUCT") || t.kind().equals("UNION")) || t.name().isEmpty() || t.name().equals("(anon)") || t.size() == 0
                    || raw.only(t.kind(), t.name()) == null || raw.byName.get(t.name()).size() > 1) continue;
            DataType d = dtm.getDataType(btf, t.name());
            checked++;
            if (d == null || d.getLength() != t.size()) wrong.add(t.name() + " " + t.size() + " vs " + (d == null ? "missing" : d.getLength()));
        }
        assertTrue(checked > 5000, checked + " structs");
        assertEquals(List.of(), wrong.subList(0, Math.min(5, wrong.size())), wrong.size() + " of " + checked + " structs and unions differ");

        int prototypes = 0;
        for (String fn : List.of("start_kernel", "do_sys_open", "__kmalloc", "__kmalloc_noprof", "kmalloc_trace",
                "kmem_cache_alloc", "kmem_cache_alloc_noprof", "kfree")) {
            BpftoolRaw.Type func = raw.only("FUNC", fn);
            if (func == null) continue;
            BpftoolRaw.Type proto = raw.byId.get(func.typeId());
            Symbol s = p.getSymbolTable().getGlobalSymbols(fn).get(0);
            Function f = p.getFunctionManager().getFunctionAt(s.getAddress());
            assertNotNull(f, fn);
            assertEquals(proto.entries().size(), f.getParameterCount(), fn + " parameters: " + f.getSignature().getPrototypeString());
            for (int i = 0; i < proto.entries().size(); i++) {
                BpftoolRaw.Entry e = proto.entries().get(i);
                assertEquals(e.name(), f.getParameter(i).getName(), fn + " parameter " + i);
                boolean pointer = raw.byId.containsKey(e.typeId()) && raw.byId.get(e.typeId()).kind().equals("PTR");
                assertEquals(pointer, f.getParameter(i).getDataType() instanceof Pointer, fn + " parameter " + e.name());
            }
            int ret = proto.typeId();
            if (ret == 0) assertEquals("void", f.getReturnType().getName(), fn);
            else if (raw.byId.get(ret).kind().equals("PTR")) assertTrue(f.getReturnType() instanceof Pointer, fn);
            assertEquals(SourceType.IMPORTED, f.getSignatureSource(), fn);
            prototypes++;
        }
        assertTrue(prototypes >= 4, prototypes + " of the kmalloc family and friends checked");

        // declaration tags on functions (6.x+: bpf_kfunc) are function tags
        int tags = 0;
        for (BpftoolRaw.Type t : raw.byId.values()) {
            if (!t.kind().equals("DECL_TAG") || !"-1".equals(t.fields().get("component_idx"))) continue;
            BpftoolRaw.Type fn = raw.byId.get(t.typeId());
            if (!fn.kind().equals("FUNC") || raw.only("FUNC", fn.name()) == null) continue;
            List<Symbol> syms = p.getSymbolTable().getGlobalSymbols(fn.name());
            if (syms.isEmpty()) continue;
            Function f = p.getFunctionManager().getFunctionAt(syms.get(0).getAddress());
            if (f == null) continue;
            assertTrue(f.getTags().stream().anyMatch(g -> g.getName().equals(t.name())), fn.name() + " tagged " + t.name());
            tags++;
        }
        assertEquals(raw.byId.values().stream().anyMatch(t -> t.kind().equals("DECL_TAG")), tags > 0, tags + " function tags checked");
    }

    /**
     * Memory of a running kernel (KASLR on, booted by .ci/qemu-dump.sh): an ELF core of a 7.x
     * kernel, picked by Ghidra's best guess (our loader, ahead of Ghidra's ELF loader), laid out
     * at the guest's runtime addresses: start_kernel a function at the runtime address the
     * guest's /proc/kallsyms gives, the banner at its runtime linux_banner, the image base the
     * runtime _text. (One dump: each import takes two minutes; raw dumps are read by the same
     * core path, which RunningKernelTest checks on every dump.)
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"sid-amd64-amd64, core.elf"})
    void aMemoryDumpIsLaidOutAtTheRunningKernelsAddresses(String id, String dump) throws Exception {
        java.nio.file.Path boot = kernelloader.running.RunningKernelTest.boot(id, 1);
        Map<String, Long> guest = new java.util.HashMap<>();
        for (String line : Files.readAllLines(boot.resolve("kallsyms"), StandardCharsets.ISO_8859_1)) {
            String[] f = line.split("\\s+");
            guest.putIfAbsent(f[2], Long.parseUnsignedLong(f[0], 16));
        }
        EmbeddedGhidra.start();
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importBestGuess(boot.resolve(dump).toFile(), consumer);
        try {
            assertEquals(LinuxKernelLoader.NAME, p.getExecutableFormat(), "log: " + EmbeddedGhidra.lastLog);
            var space = p.getAddressFactory().getDefaultAddressSpace();
            assertEquals(guest.get("_text"), p.getImageBase().getOffset());
            Function f = p.getFunctionManager().getFunctionAt(space.getAddress(guest.get("start_kernel")));
            assertNotNull(f, "start_kernel is a function at its runtime address");
            assertEquals("start_kernel", f.getName());
            byte[] b = new byte[14];
            p.getMemory().getBytes(space.getAddress(guest.get("linux_banner")), b);
            assertEquals("Linux version ", new String(b, StandardCharsets.ISO_8859_1));
        } finally {
            p.release(consumer);
        }
    }

    @Test
    void theUserMayPickAnotherLanguage() throws Exception {
        // what the import dialog's language picker (or analyzeHeadless -processor) does
        Corpus.Kernel k = Corpus.kernel("bullseye-armhf-armmp");
        EmbeddedGhidra.start();
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importWith(k.image().toFile(), LinuxKernelLoader.class,
                List.of(new Pair<>("-loader-" + "createFunctions", "false")), "ARM:LE:32:v7", consumer);
        try {
            assertEquals("ARM:LE:32:v7", p.getLanguageID().getIdAsString());
            assertEquals(43274, p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1));
            assertEquals(0, p.getFunctionManager().getFunctionCount(), "-loader-createFunctions false");
        } finally {
            p.release(consumer);
        }
    }

    @Test
    void theKallsymsTableOptionPicksOneOfSeveralKernels() throws Exception {
        File dump = TestFiles.twoKernelDump().toFile();
        EmbeddedGhidra.start();
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importWith(dump, LinuxKernelLoader.class,
                List.of(new Pair<>("-loader-kallsymsTable", "1")), consumer);
        try {
            assertEquals(50218, p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1), EmbeddedGhidra.lastLog);
            assertTrue(p.getOptions(Program.PROGRAM_INFO).getString("Linux kernel version", "").startsWith("Linux version 6.1."));
            assertEquals("AARCH64:LE:64:v8A", p.getLanguageID().getIdAsString());
        } finally {
            p.release(consumer);
        }
    }

    @Test
    void aKernelWithoutKallsymsIsLoadedWithItsExportsAndTheScriptsReadTheSame() throws Exception {
        // Debian's armhf kernel, peeled, with its token table wiped: a kernel built without KALLSYMS
        Corpus.Kernel k = Corpus.kernel("bullseye-armhf-armmp");
        Kernel whole = Kernel.read(k.image(), KernelOptions.DEFAULT);
        byte[] img = java.util.Arrays.copyOf(whole.image().data(), whole.image().length());
        var l = whole.kallsyms().get().layout();
        java.util.Arrays.fill(img, l.tokenTable(), l.tokenIndex() + 512, (byte) 0);
        Path file = TestFiles.tempDir("nokallsyms").resolve("Image");
        Files.write(file, img);
        EmbeddedGhidra.start();
        Object consumer = new Object();
        Program p = EmbeddedGhidra.importWith(file.toFile(), LinuxKernelLoader.class, consumer);
        try {
            int exports = whole.exports().get().exports().size();
            assertEquals(exports, p.getOptions(Program.PROGRAM_INFO).getInt("Linux kallsyms labels", -1), EmbeddedGhidra.lastLog);
            assertTrue(p.getOptions(Program.PROGRAM_INFO).getString("Linux kallsyms layout", "").startsWith("no kallsyms; " + exports + " symbols from __ksymtab"),
                    p.getOptions(Program.PROGRAM_INFO).getString("Linux kallsyms layout", ""));
            Address kfree = p.getAddressFactory().getDefaultAddressSpace().getAddress(k.firstAddresses().get("kfree"));
            assertNotNull(p.getFunctionManager().getFunctionAt(kfree), "kfree is a function");
            assertEquals(whole.layout().get().base().value(), p.getImageBase().getOffset());
            // the analyzer and scripts read the program's memory: the same table
            Kernel m = ProgramKernels.of(p).get();
            assertEquals(exports, m.kallsyms().get().size());
            assertEquals(KallsymsTable.Origin.EXPORTS, m.kallsyms().get().origin());
        } finally {
            p.release(consumer);
        }
    }

    @Test
    void aFailedLoadSaysWhyAndLeavesNothingInTheProject() throws Exception {
        // a load that fails half-way (here: a kallsyms table the file does not have) must not
        // leave a half-made program behind
        Corpus.Kernel k = Corpus.kernel("bullseye-armhf-armmp");
        EmbeddedGhidra.start();
        Path dir = TestFiles.tempDir("failed-import");
        GhidraProject project = GhidraProject.createProject(dir.toString(), "p", false);
        try {
            MessageLog log = new MessageLog();
            Object consumer = new Object();
            String why;
            try {
                GhidraImport results = GhidraImport.of(k.image().toFile(), project.getProject(), LinuxKernelLoader.class,
                        List.of(new Pair<>("-loader-kallsymsTable", "3")), log, TaskMonitor.DUMMY);
                why = "imported: " + results;
                if (results != null) results.close();
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
