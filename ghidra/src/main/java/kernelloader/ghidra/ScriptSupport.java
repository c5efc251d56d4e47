package kernelloader.ghidra;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ghidra.program.model.data.Category;
import ghidra.program.model.data.DataType;
import ghidra.program.model.data.DataTypeConflictHandler;
import ghidra.program.model.data.FileDataTypeManager;
import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;
import kernelloader.btf.Btf;
import kernelloader.image.KernelFormatException;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOutputs;

/**
 * What the ghidra_scripts and the exporters call, so that the scripts stay a few lines and the
 * logic is tested here: each reads the program's memory into the core's model once
 * ({@link ProgramKernels}) and writes what the CLI's command of the same name writes.
 */
public final class ScriptSupport {
    private ScriptSupport() {}

    /** The kernel in the program's memory, or an IOException saying why there is none. */
    static Kernel kernel(Program program) throws IOException {
        try {
            return ProgramKernels.of(program).get();
        } catch (KernelFormatException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Writes the program's kallsyms table in /proc/kallsyms format (as `./kallsyms list`); returns the symbol count. */
    public static int exportKallsyms(Program program, Path out) throws IOException {
        Kernel k = kernel(program);
        return write(out, w -> KernelOutputs.procKallsyms(k, w));
    }

    /**
     * Writes the program as a kernel ELF (as `./kallsyms elf`): its memory blocks as regions,
     * every kallsyms symbol in .symtab, the kernel's .BTF; returns the symbol count.
     */
    public static int exportElf(Program program, Path out) throws IOException {
        Kernel k = kernel(program);
        try (OutputStream os = Files.newOutputStream(out)) {
            return KernelOutputs.elf(k, os);
        } catch (KernelFormatException e) {
            throw new IOException(program.getName() + ": " + e.getMessage(), e);
        }
    }

    /** Writes the vmlinux lines of Module.symvers (as `./kallsyms symvers`); returns the number of exports. */
    public static int exportModuleSymvers(Program program, Path out) throws IOException {
        Kernel k = kernel(program);
        return write(out, w -> KernelOutputs.moduleSymvers(k, w));
    }

    private interface TextBody {
        int writeTo(Writer w) throws IOException, KernelFormatException;
    }

    private static int write(Path out, TextBody body) throws IOException {
        try (Writer w = new BufferedWriter(Files.newBufferedWriter(out, StandardCharsets.ISO_8859_1), 1 << 16)) {
            return body.writeTo(w);
        } catch (KernelFormatException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Writes the kernel's BTF types to a new Ghidra data type archive ({@code .gdt}) that other
     * programs (modules, other builds of the kernel) can open and apply. The program's /BTF
     * category where the loader or analyzer made one; else the types straight from the BTF in
     * the program's memory. Returns the number of types written.
     */
    public static int exportBtfArchive(Program program, Path out, TaskMonitor monitor) throws Exception {
        if (!out.getFileName().toString().endsWith(".gdt")) throw new IOException(out + ": a data type archive's name ends in .gdt");
        if (Files.exists(out)) throw new IOException(out + ": exists; Ghidra will not overwrite an archive");
        Category cat = program.getDataTypeManager().getCategory(BtfDataTypes.CATEGORY);
        Btf btf = cat != null ? null : kernel(program).btf().get().btf();
        FileDataTypeManager gdt = FileDataTypeManager.createFileArchive(out.toFile());
        try {
            int tx = gdt.startTransaction("Linux kernel BTF");
            int n;
            try {
                if (cat != null) {
                    List<DataType> all = new ArrayList<>(List.of(cat.getDataTypes()));
                    gdt.addDataTypes(all, DataTypeConflictHandler.DEFAULT_HANDLER, monitor);
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
}
