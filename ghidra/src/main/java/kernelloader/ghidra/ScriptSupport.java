package kernelloader.ghidra;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import ghidra.program.model.listing.Program;
import ghidra.program.model.mem.MemoryBlock;
import kernelloader.elf.ElfWriter;
import kernelloader.image.KernelImage;
import kernelloader.layout.Architecture;
import kernelloader.layout.Inference;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;
import ghidra.program.model.mem.MemoryAccessException;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.core.KernelReader;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelVersion;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.KsymtabFinder;
import kernelloader.ksymtab.ModuleSymvers;

/** What the ghidra_scripts call, so that the scripts stay a few lines and the logic is tested here. */
public final class ScriptSupport {
    private ScriptSupport() {}

    /**
     * Writes the program's kallsyms table in /proc/kallsyms format; returns the symbol count.
     * The table is read from the program's memory by the same core as `./kallsyms list`.
     */
    public static int exportKallsyms(Program program, Path out) throws IOException, MemoryAccessException {
        KallsymsTable t = table(program);
        try (Writer w = new BufferedWriter(Files.newBufferedWriter(out, StandardCharsets.ISO_8859_1), 1 << 16)) {
            t.writeProcKallsyms(w);
        }
        return t.size();
    }

    private static KallsymsTable table(Program program) throws IOException, MemoryAccessException {
        KallsymsTable t = ProgramKernel.kallsyms(program);
        if (t == null) throw new IOException(program.getName() + ": no kallsyms table in this program's memory");
        return t;
    }

    /**
     * Writes the program as a kernel ELF: its memory blocks as regions, every kallsyms symbol in
     * .symtab (the same writer as `./kallsyms elf`); returns the symbol count.
     */
    public static int exportElf(Program program, Path out) throws IOException, MemoryAccessException {
        KernelImage img = ProgramKernel.image(program);
        if (img == null) throw new IOException(program.getName() + ": no initialised memory to export");
        KernelLayout layout = layout(program, img);
        KallsymsTable symbols = table(program);
        ElfWriter w = new ElfWriter(img, symbols, layout);
        kernelloader.btf.BtfLocator.Found btf = kernelloader.btf.BtfLocator.find(img, layout, symbols).found();
        if (btf != null) w.withBtf(btf.offset(), btf.btf().byteSize());
        return w.write(out);
    }

    /**
     * Writes the vmlinux lines of Module.symvers from the exported-symbol tables in the program's
     * memory (the same core as `./kallsyms symvers`); returns the number of exports.
     */
    public static int exportModuleSymvers(Program program, Path out) throws IOException, MemoryAccessException {
        KernelImage img = ProgramKernel.image(program);
        if (img == null) throw new IOException(program.getName() + ": no initialised memory to search for exports");
        KernelVersion version = KernelVersion.fromBanner(KernelReader.versionBanner(img));
        ExportTable t;
        try {
            t = KsymtabFinder.find(img, layout(program, img), ProgramKernel.kallsyms(program), version);
        } catch (KernelFormatException e) {
            throw new IOException(program.getName() + ": " + e.getMessage(), e);
        }
        try (Writer w = new BufferedWriter(Files.newBufferedWriter(out, StandardCharsets.ISO_8859_1), 1 << 16)) {
            ModuleSymvers.write(t, ModuleSymvers.Columns.of(version), w);
        }
        return t.exports().size();
    }

    /**
     * Writes the kernel's BTF types to a new Ghidra data type archive ({@code .gdt}) that other
     * programs (modules, other builds of the kernel) can open and apply. The program's /BTF
     * category where the loader or analyzer made one; else the types straight from the BTF in
     * the program's memory. Returns the number of types written.
     */
    public static int exportBtfArchive(Program program, Path out, ghidra.util.task.TaskMonitor monitor) throws Exception {
        if (!out.getFileName().toString().endsWith(".gdt")) throw new IOException(out + ": a data type archive's name ends in .gdt");
        if (Files.exists(out)) throw new IOException(out + ": exists; Ghidra will not overwrite an archive");
        ghidra.program.model.data.Category cat = program.getDataTypeManager().getCategory(BtfDataTypes.CATEGORY);
        kernelloader.btf.Btf btf = null;
        if (cat == null) {
            KernelImage img = ProgramKernel.image(program);
            if (img == null) throw new IOException(program.getName() + ": no initialised memory to search for BTF");
            kernelloader.btf.BtfLocator.Outcome o = kernelloader.btf.BtfLocator.find(img, layout(program, img), ProgramKernel.kallsyms(program));
            if (o.found() == null) throw new IOException(o.failure(program.getName()));
            btf = o.found().btf();
        }
        ghidra.program.model.data.FileDataTypeManager gdt = ghidra.program.model.data.FileDataTypeManager.createFileArchive(out.toFile());
        try {
            int tx = gdt.startTransaction("Linux kernel BTF");
            int n;
            try {
                if (cat != null) {
                    List<ghidra.program.model.data.DataType> all = new ArrayList<>(List.of(cat.getDataTypes()));
                    gdt.addDataTypes(all, ghidra.program.model.data.DataTypeConflictHandler.DEFAULT_HANDLER, monitor);
                    n = all.size();
                } else {
                    n = BtfDataTypes.create(btf, gdt, monitor).added().values().stream().mapToInt(Integer::intValue).sum();
                }
            } finally {
                gdt.endTransaction(tx, true);
            }
            gdt.save();
            return n;
        } finally {
            gdt.close();
        }
    }

    /** The program's memory map as the core describes one: a region per block, offsets into {@code img}. */
    static KernelLayout layout(Program program, KernelImage img) throws IOException {
        long lo = img.layers().get(0).offset();
        List<MemoryRegion> regions = new ArrayList<>();
        for (MemoryBlock b : program.getMemory().getBlocks()) {
            if (b.isOverlay() || !b.getStart().getAddressSpace().isMemorySpace()) continue;
            String perm = (b.isRead() ? "r" : "-") + (b.isWrite() ? "w" : "-") + (b.isExecute() ? "x" : "-");
            long start = b.getStart().getOffset();
            regions.add(new MemoryRegion(b.getName(), start, b.getSize(), b.isInitialized() ? start - lo : -1, perm));
        }
        Architecture arch = architectureOf(program);
        if (arch == null) throw new IOException(program.getName() + ": no ELF machine for processor " + program.getLanguage().getProcessor());
        ByteOrder order = program.getLanguage().isBigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        long entry = program.getSymbolTable().getExternalEntryPointIterator().hasNext()
                ? program.getSymbolTable().getExternalEntryPointIterator().next().getOffset() : program.getImageBase().getOffset();
        return new KernelLayout(Inference.certain(arch, "Ghidra language " + program.getLanguageID()),
                program.getDefaultPointerSize() * 8, order, Inference.certain(program.getImageBase().getOffset(), "Ghidra image base"),
                regions, Inference.certain(entry, "Ghidra entry point"));
    }

    /** The architecture of a Ghidra language's processor, or null. */
    static Architecture architectureOf(Program program) {
        String p = program.getLanguage().getProcessor().toString().toLowerCase();
        if (p.equals("x86")) return Architecture.X86;
        if (p.equals("arm")) return Architecture.ARM;
        if (p.equals("aarch64")) return Architecture.AARCH64;
        if (p.equals("mips")) return Architecture.MIPS;
        if (p.equals("powerpc")) return Architecture.POWERPC;
        if (p.equals("sparc")) return Architecture.SPARC;
        if (p.startsWith("superh")) return Architecture.SUPERH;
        if (p.equals("riscv")) return Architecture.RISCV;
        if (p.equals("loongarch")) return Architecture.LOONGARCH;
        return null;
    }
}
