package kernelloader.running;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import kernelloader.dump.PhysicalMemory;
import kernelloader.dump.RunningKernel;
import kernelloader.image.ElfHeader;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;

/**
 * Dumps made from the harness's real ones the way dumps go wrong, and a LiME image of one: each
 * ends in the guest's own /proc/kallsyms or in one line saying why not, never in wrong addresses.
 */
@Tag("corpus")
class HostileDumpTest {
    static final String TRIXIE = "trixie-amd64-amd64", SID = "sid-amd64-amd64";

    /**
     * A correct answer or one line: the guest's /proc/kallsyms; or, where the table was refused
     * by its content, the exports read as symbols, each at the guest's address; or, where the
     * running kernel's memory is gone and nothing says the file is memory, the copy of the kernel
     * file the boot loader left in it, read as that file (its layers say so), no running kernel
     * claimed; or one line saying why not.
     */
    static void guestsOrOneLine(Kernel k, Path boot, String id, String what) throws Exception {
        if (!k.kallsyms().present()) {
            String why = k.kallsyms().why();
            assertFalse(why.contains("\n"), why);
            assertTrue(why.length() < 4000, what + ": " + why.length() + " characters");
            return;
        }
        List<String> guest = guest(boot), ours = ours(k);
        if (ours.equals(guest)) return;
        if (!k.kallsyms().get().fromKallsyms() && k.image().layers().isEmpty()) {
            // the exports, read as symbols from the dump's own bytes: each at the guest's address
            java.util.Set<String> all = new java.util.HashSet<>();
            for (String line : guest) all.add(line.substring(0, 16) + " " + line.substring(19));
            for (String line : ours) assertTrue(all.contains(line.substring(0, 16) + " " + line.substring(19)), what + ": " + line);
            assertTrue(ours.size() > 5000, what + ": " + ours.size() + " exports");
        } else {
            assertFalse(k.image().layers().isEmpty(), what + ": a table in the dump's own bytes is the running kernel's");
            assertEquals(ours(RunningKernelTest.kernelFile(id)), ours, what + ": " + k.image().describeLayers() + " is the kernel file's copy");
        }
    }

    static List<String> guest(Path boot) throws IOException {
        return Files.readAllLines(boot.resolve("kallsyms"), StandardCharsets.ISO_8859_1);
    }

    static List<String> ours(Kernel k) throws Exception {
        StringWriter w = new StringWriter(1 << 23);
        KernelOutputs.procKallsyms(k, w);
        return w.toString().lines().toList();
    }

    /** Where the running kernel lies in the raw dump: _text's offset and the image's length. */
    static long[] kernelIn(Path raw) throws Exception {
        Kernel k = Kernel.read(raw, KernelOptions.DEFAULT);
        RunningKernel rk = k.running().get();
        return new long[] {rk.textOffset(), k.image().length()};
    }

    /**
     * A LiME image (lime_mem_range_header before each range) of the memory the ELF core holds,
     * range for range as QEMU dumped the guest's RAM blocks: read as that memory, by physical address.
     */
    @Test
    void aLimeImageIsReadAsPhysicalMemory(@TempDir Path tmp) throws Exception {
        Path boot = RunningKernelTest.boot(TRIXIE, 1);
        byte[] core = Files.readAllBytes(boot.resolve("core.elf"));
        PhysicalMemory m = PhysicalMemory.ofElfCore(ElfHeader.parse(core, core.length), core.length);
        Path lime = tmp.resolve("memory.lime");
        try (var out = Files.newOutputStream(lime)) {
            for (PhysicalMemory.Segment s : m.segments()) {
                ByteBuffer h = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
                h.putInt(0x4C694D45).putInt(1).putLong(s.physical()).putLong(s.physical() + s.size() - 1).putLong(0);
                out.write(h.array());
                out.write(core, (int) s.fileOffset(), (int) s.size());
            }
        }
        core = null;
        Kernel k = Kernel.read(lime, KernelOptions.DEFAULT);
        assertEquals(guest(boot), ours(k));
        RunningKernel rk = k.running().get();
        assertEquals("LiME", rk.dump());
        assertEquals(0L, rk.dumpStart());
        assertEquals("Linux version", new String(readAt(lime, rk.fileOffsetOf(k.kallsyms().get().addressOf("linux_banner")), 13),
                StandardCharsets.ISO_8859_1));
    }

    /** Cut inside the kernel's image, and an ELF core cut before the kernel's memory. */
    @Test
    void truncatedDumps(@TempDir Path tmp) throws Exception {
        Path boot = RunningKernelTest.boot(TRIXIE, 1);
        long[] at = kernelIn(boot.resolve("raw.bin"));
        for (long end : new long[] {at[0] + at[1] / 2, at[0] + at[1] / 8, at[0] + 4096}) {
            Path cut = tmp.resolve("raw-" + end);
            copy(boot.resolve("raw.bin"), cut, end);
            guestsOrOneLine(Kernel.read(cut, KernelOptions.DEFAULT), boot, TRIXIE, "raw dump cut at 0x" + Long.toHexString(end));
            Files.delete(cut);
        }
        Path core = tmp.resolve("core");
        copy(boot.resolve("core.elf"), core, 300L << 20);
        Kernel k = Kernel.read(core, KernelOptions.DEFAULT);
        guestsOrOneLine(k, boot, TRIXIE, "core cut at 300 MiB");
    }

    /** Pages zeroed outside the kernel (a dump with holes) and in its bss: the same table, the same addresses. */
    @Test
    void holes(@TempDir Path tmp) throws Exception {
        Path boot = RunningKernelTest.boot(TRIXIE, 2);
        long[] at = kernelIn(boot.resolve("raw.bin"));
        byte[] d = Files.readAllBytes(boot.resolve("raw.bin"));
        long hole = at[0] > (128L << 20) ? 32L << 20 : at[0] + at[1] + (16L << 20);
        Arrays.fill(d, (int) hole, (int) (hole + (64L << 20)), (byte) 0);
        Arrays.fill(d, (int) (at[0] + at[1] - (1 << 20)), (int) (at[0] + at[1]), (byte) 0);
        Path f = tmp.resolve("holes.bin");
        Files.write(f, d);
        d = null;
        Kernel k = Kernel.read(f, KernelOptions.DEFAULT);
        assertEquals(guest(boot), ours(k));
        assertEquals(Long.parseUnsignedLong(RunningKernelTest.meta(boot).getProperty("runtime_text").substring(2), 16),
                k.layout().get().base().value());
    }

    /**
     * The kernel's image split: its second half moved 32 MiB on (a dump that lost the frames'
     * order). The table is whole in the first half: the same addresses or one line; and what
     * lay in the moved half (BTF, here) is not read from the bytes now there.
     */
    @Test
    void aKernelSplitAcrossFrames(@TempDir Path tmp) throws Exception {
        Path boot = RunningKernelTest.boot(SID, 1);
        long[] at = kernelIn(boot.resolve("raw.bin"));
        byte[] d = Files.readAllBytes(boot.resolve("raw.bin"));
        int half = (int) (at[0] + (at[1] / 2 & ~0xfffL)), end = (int) (at[0] + at[1]);
        int to = half + (32 << 20);
        if (to + (end - half) > d.length) to = half - (96 << 20);
        byte[] moved = Arrays.copyOfRange(d, half, end);
        Arrays.fill(d, half, end, (byte) 0);
        System.arraycopy(moved, 0, d, to, moved.length);
        Path f = tmp.resolve("split.bin");
        Files.write(f, d);
        d = null;
        Kernel k = Kernel.read(f, KernelOptions.DEFAULT);
        guestsOrOneLine(k, boot, SID, "kernel split");
        if (k.kallsyms().present() && k.btf().present()) {
            // BTF found means its bytes are the kernel's: its header where the layout says
            assertTrue(k.btf().orNull().btf().types().size() > 100_000);
        }
    }

    /**
     * A page of zeros inside the table's own offsets array (6.x: relative to kallsyms_relative_base;
     * 7.x: self-relative): the symbols after it would read as the hole's positions, in order. The
     * table is refused; the exports, at the guest's addresses, or one line.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {TRIXIE, SID})
    void aHoleInTheTableItself(String id, @TempDir Path tmp) throws Exception {
        Path boot = RunningKernelTest.boot(id, 1);
        Kernel whole = Kernel.read(boot.resolve("raw.bin"), KernelOptions.DEFAULT);
        long offsets = whole.running().get().textOffset() + whole.kallsyms().get().layout().arrays().get("kallsyms_offsets");
        int n = whole.kallsyms().get().size();
        byte[] d = Files.readAllBytes(boot.resolve("raw.bin"));
        int at = (int) ((offsets + 4L * n / 2) & ~0xfffL);
        Arrays.fill(d, at, at + 4096, (byte) 0);
        Path f = tmp.resolve("hole.bin");
        Files.write(f, d);
        d = null;
        Kernel k = Kernel.read(f, KernelOptions.DEFAULT);
        if (k.kallsyms().present()) assertFalse(k.kallsyms().get().fromKallsyms(), "the damaged table is not read as kallsyms");
        guestsOrOneLine(k, boot, id, "a page of zeros in kallsyms_offsets");
    }

    /**
     * A raw dump 1.75 GiB into a file of 2.25 GiB (a machine with more memory than one array
     * holds, its kernel high): found in the second window, the guest's list, and the memory
     * map's dump offsets are the file's, not the window's.
     */
    @Test
    void aDumpInAFileOverTwoGiB(@TempDir Path tmp) throws Exception {
        Path boot = RunningKernelTest.boot(TRIXIE, 2);
        Path big = tmp.resolve("big.bin");
        long pad = 7L << 28;
        try (var ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE); var in = java.nio.channels.FileChannel.open(boot.resolve("raw.bin"))) {
            ch.position(pad);   // sparse: zeros, as unpopulated memory would read
            in.transferTo(0, in.size(), ch);
        }
        Kernel k = Kernel.read(big, KernelOptions.DEFAULT);
        assertEquals(guest(boot), ours(k));
        assertEquals("window", k.image().layers().get(0).kind());
        RunningKernel rk = k.running().get();
        long banner = k.kallsyms().get().addressOf("linux_banner");
        assertEquals("Linux version", new String(readAt(big, rk.fileOffsetOf(banner), 13), StandardCharsets.ISO_8859_1));
        // VMCOREINFO puts _text at physical 0x1a400000, but here it lies 1.75 GiB further into the
        // file: no physical address can be right for both, and none is claimed
        assertTrue(rk.physicalText() == null || rk.dumpStart() >= 0, rk.toString());
    }

    /** Two running kernels' memory in one file: the first table, and the second with --table 1, each its guest's. */
    @Test
    void twoKernelsInOneDump(@TempDir Path tmp) throws Exception {
        Path a = RunningKernelTest.boot(TRIXIE, 1), b = RunningKernelTest.boot(SID, 2);
        Path both = tmp.resolve("two.bin");
        try (var out = Files.newOutputStream(both)) {
            Files.copy(a.resolve("raw.bin"), out);
            Files.copy(b.resolve("raw.bin"), out);
        }
        Kernel first = Kernel.read(both, KernelOptions.DEFAULT);
        assertEquals(guest(a), ours(first));
        Kernel second = Kernel.read(both, KernelOptions.DEFAULT.withTable(1));
        assertEquals(guest(b), ours(second));
        assertEquals(Long.parseUnsignedLong(RunningKernelTest.meta(b).getProperty("runtime_text").substring(2), 16),
                second.running().get().runtimeText());
    }

    private static void copy(Path from, Path to, long bytes) throws IOException {
        try (var in = Files.newInputStream(from); var out = Files.newOutputStream(to)) {
            byte[] buf = new byte[1 << 20];
            long left = bytes;
            int n;
            while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
                out.write(buf, 0, n);
                left -= n;
            }
        }
    }

    private static byte[] readAt(Path f, long offset, int n) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(f)) {
            ByteBuffer b = ByteBuffer.allocate(n);
            ch.read(b, offset);
            return b.array();
        }
    }
}
