package kernelloader.fuzz;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

import kernelloader.btf.Btf;
import kernelloader.btf.BtfLocator;
import kernelloader.btf.BtfRawDump;
import kernelloader.btf.CHeaderWriter;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;
import kernelloader.image.KernelFormatException;
import kernelloader.image.KernelImage;
import kernelloader.ksymtab.ExportTable;
import kernelloader.ksymtab.KsymtabFinder;
import kernelloader.ksymtab.ModuleSymvers;
import kernelloader.layout.Architecture;
import kernelloader.layout.Inference;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;

/**
 * The fuzz target (Jazzer's fuzzerTestOneInput, run by bench/fuzz.sh, and replayed on every seed
 * and past finding by FuzzRegressionTest): the whole pipeline the CLI runs on a file — unwrap,
 * kallsyms, layout, relocations, exports, Module.symvers — must end in a result or in our own
 * one-line KernelFormatException. Anything else (another exception, a hang past the fuzzer's
 * timeout, running out of the fuzzing JVM's heap) is a finding.
 *
 * <p>The first byte picks what the rest is: even, a file (the pipeline from the top, BTF
 * included); odd, the memory of a 64-bit kernel at a fixed address (the export-table search
 * alone, which behind the pipeline is only reached by inputs holding a valid kallsyms table);
 * even with bit 2 set, bytes holding a BTF blob somewhere (search, parse, raw dump, C header);
 * 8 in the low four bits, a recipe for a large, repeated or nested file ({@link Shapes}) given to
 * the pipeline.
 */
public final class PipelineFuzzTarget {
    static final long BASE = 0xffffffc010000000L;

    private PipelineFuzzTarget() {}

    public static void fuzzerTestOneInput(byte[] input) {
        if (input.length == 0) return;
        byte[] data = Arrays.copyOfRange(input, 1, input.length);
        try {
            if ((input[0] & 0x0f) == 8) pipeline(shaped(data));
            else if ((input[0] & 5) == 4) btf(data);
            else if ((input[0] & 1) == 0) pipeline(data);
            else exports(data, (input[0] & 2) != 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        } catch (KernelFormatException e) {
            oneLine(e);
        }
    }

    /** A large, repeated or nested file built from {@code recipe} ({@link Shapes}). */
    private static byte[] shaped(byte[] recipe) {
        try {
            return Shapes.build(recipe);
        } catch (IOException e) {
            throw new IllegalStateException("building in memory failed", e);
        }
    }

    private static void oneLine(KernelFormatException e) {
        String m = e.getMessage();
        if (m == null || m.isBlank() || m.indexOf('\n') >= 0) {
            throw new IllegalStateException("a user error must be one line of text: [" + m + "]", e);
        }
    }

    static void pipeline(byte[] data) throws KernelFormatException {
        Kernel m = Kernel.read("fuzz", data, data.length, KernelOptions.DEFAULT);
        m.kallsyms().get();
        if (m.btf().present()) dump(m.btf().orNull().btf());
        try {
            KernelOutputs.elf(m, OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new IllegalStateException("a null stream failed", e);
        } catch (KernelFormatException e) {
            oneLine(e);
        }
        try {
            KernelOutputs.moduleSymvers(m, new StringBuilder());
        } catch (IOException e) {
            throw new IllegalStateException("a string builder failed", e);
        }
    }

    static void btf(byte[] data) throws KernelFormatException {
        BtfLocator.Outcome o = BtfLocator.find(new KernelImage(data, data.length, List.of(), null), null, null);
        if (o.found() == null) throw new KernelFormatException(o.failure("fuzz"));
        dump(o.found().btf());
    }

    /** What `btf` prints, into nothing. */
    private static void dump(Btf b) throws KernelFormatException {
        Writer none = Writer.nullWriter();
        try {
            BtfRawDump.text(b, none);
            BtfRawDump.json(b, none);
            CHeaderWriter.write(b, none);
        } catch (IOException e) {
            throw new IllegalStateException("a null writer failed", e);
        }
    }

    static void exports(byte[] data, ByteOrder order) throws KernelFormatException {
        KernelImage img = new KernelImage(data, data.length, List.of(), null);
        KernelLayout layout = new KernelLayout(Inference.certain(Architecture.AARCH64, "fuzz"), 64, order,
                Inference.certain(BASE, "fuzz"), List.of(new MemoryRegion(".data", BASE, data.length, 0, "rw-")),
                Inference.certain(BASE, "fuzz"));
        ExportTable t = KsymtabFinder.find(img, layout, null, null);
        ModuleSymvers.lines(t, ModuleSymvers.Columns.of(null));
    }
}
