package kernelloader.running;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import kernelloader.dump.RunningKernel;
import kernelloader.image.ElfHeader;
import kernelloader.image.ElfProgramHeader;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;
import kernelloader.ksymtab.KernelExport;

/**
 * Memory of a running kernel, booted here in Debian's QEMU by .ci/qemu-dump.sh (KASLR on, a
 * busybox initramfs that prints its /proc/kallsyms), dumped as an ELF core and as raw physical
 * memory: `list` of each dump must be the guest's own /proc/kallsyms, line for line, at its
 * runtime addresses. amd64 6.12 and 7.x (self-relative offsets: the base comes from the
 * relocated pointers), arm64 6.12 (qemu-system-aarch64 virt, RAM from 0x40000000); an ELF core
 * read as the physical memory it holds, not as an ELF.
 */
@Tag("corpus")
public class RunningKernelTest {

    /** The boot's directory, made by the harness the first time (about 40 s), then cached. */
    public static Path boot(String id, int n) throws IOException, InterruptedException {
        return boot(id, n, java.util.Map.of());
    }

    /** A boot made with the harness's options in {@code env} (VMCOREINFO=1, MODULES=...). */
    public static Path boot(String id, int n, java.util.Map<String, String> env) throws IOException, InterruptedException {
        Path root = Path.of(System.getProperty("repository.root", "..")).toAbsolutePath().normalize();
        // (KERNEL_DUMPS, as the harness reads it; else the build's property: the Ghidra tests move user.home)
        String dumps = System.getenv().getOrDefault("KERNEL_DUMPS",
                System.getProperty("kernel.dumps", System.getProperty("user.home") + "/.cache/kernel-dumps"));
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve(".ci/qemu-dump.sh").toString(), id, String.valueOf(n))
                .redirectErrorStream(true);
        pb.environment().put("KERNEL_DUMPS", dumps);
        pb.environment().put("KERNEL_CORPUS", kernelloader.corpus.Corpus.dir().toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "the QEMU harness (install its tools with .ci/run): " + out);
        return Path.of(dumps, id, "boot" + n);
    }

    public static Properties meta(Path boot) throws IOException {
        Properties meta = new Properties();
        try (var r = Files.newBufferedReader(boot.resolve("meta.env"))) {
            meta.load(r);
        }
        return meta;
    }

    /** The corpus kernel the harness booted: its file, read at link-time addresses. */
    public static Kernel kernelFile(String id) throws Exception {
        return Kernel.read(kernelloader.corpus.Corpus.dir().resolve(id).resolve("image"), KernelOptions.DEFAULT);
    }

    @ParameterizedTest(name = "{0} boot {1} {2}")
    @CsvSource({"trixie-amd64-amd64, 1, core.elf", "trixie-amd64-amd64, 1, raw.bin", "trixie-amd64-amd64, 2, core.elf", "trixie-amd64-amd64, 2, raw.bin",
                "sid-amd64-amd64, 1, core.elf", "sid-amd64-amd64, 1, raw.bin", "sid-amd64-amd64, 2, core.elf", "sid-amd64-amd64, 2, raw.bin",
                "trixie-arm64-arm64, 1, core.elf", "trixie-arm64-arm64, 1, raw.bin", "trixie-arm64-arm64, 2, core.elf", "trixie-arm64-arm64, 2, raw.bin"})
    void listIsTheGuestsProcKallsyms(String id, int n, String dump) throws Exception {
        Path boot = boot(id, n);
        Properties meta = meta(boot);
        List<String> guest = Files.readAllLines(boot.resolve("kallsyms"), StandardCharsets.ISO_8859_1);
        assertTrue(guest.size() > 100_000, guest.size() + " lines");
        // KASLR moved the kernel: the guest's _text is not the link-time 0xffffffff81000000
        assertTrue(!meta.getProperty("runtime_text").equals("0xffffffff81000000"), meta.toString());
        Kernel k = Kernel.read(boot.resolve(dump), KernelOptions.DEFAULT);
        StringWriter w = new StringWriter();
        KernelOutputs.procKallsyms(k, w);
        List<String> ours = w.toString().lines().toList();
        assertEquals(guest.size(), ours.size());
        for (int i = 0; i < guest.size(); i++) assertEquals(guest.get(i), ours.get(i), "line " + (i + 1) + " of " + dump);
    }

    /**
     * The running kernel as the dump shows it: its base is the guest's runtime _text, the slide is
     * that less the kernel file's _text, the physical address is where _text's bytes lie; the
     * ELF holds "Linux version" at the runtime linux_banner; the exports are the kernel file's,
     * every value moved by the slide (x86-64's zero-based per-cpu offsets stay), CRCs and namespaces the same.
     */
    @ParameterizedTest(name = "{0} boot {1} {2}")
    @CsvSource({"trixie-amd64-amd64, 1, core.elf", "trixie-amd64-amd64, 2, raw.bin",
                "sid-amd64-amd64, 1, raw.bin", "sid-amd64-amd64, 2, core.elf",
                "trixie-arm64-arm64, 1, raw.bin", "trixie-arm64-arm64, 2, core.elf"})
    void theRunningKernelAtItsRuntimeAddresses(String id, int n, String dump) throws Exception {
        Path boot = boot(id, n);
        long runtimeText = Long.parseUnsignedLong(meta(boot).getProperty("runtime_text").substring(2), 16);
        long ramStart = Long.decode(meta(boot).getProperty("ram_start", "0x0"));
        Kernel file = kernelFile(id);
        long linkText = file.kallsyms().get().addressOf("_text");
        Kernel k = Kernel.read(boot.resolve(dump), KernelOptions.DEFAULT);
        RunningKernel rk = k.running().get();
        assertEquals(runtimeText, k.layout().get().base().value(), "base");
        assertEquals(runtimeText, rk.runtimeText());
        assertEquals(runtimeText - linkText, rk.slide().value(), "slide: " + rk.slide());
        assertEquals("certain", rk.slide().confidence(), rk.slide().evidence());
        assertEquals(linkText, rk.linkText());
        // _text's physical address: where its bytes are in the dump (both dumps start at the RAM's start)
        assertEquals(ramStart, rk.dumpStart(), "the dump's physical start");
        byte[] atText = readDump(boot.resolve(dump), rk.fileOffsetOf(runtimeText), 64);
        byte[] fileText = java.util.Arrays.copyOfRange(file.image().data(), (int) file.layout().get().fileOffsetOf(linkText),
                (int) file.layout().get().fileOffsetOf(linkText) + 64);
        if (id.contains("arm64")) assertArrayEquals(java.util.Arrays.copyOfRange(fileText, 56, 64),
                java.util.Arrays.copyOfRange(atText, 56, 64), "the arm64 Image header's magic at _text's dump offset");

        // the ELF: "Linux version" at the runtime linux_banner, as in the dump's file at the offset the memory map gives
        long banner = k.kallsyms().get().addressOf("linux_banner");
        assertEquals("Linux version", new String(readDump(boot.resolve(dump), rk.fileOffsetOf(banner), 13), StandardCharsets.ISO_8859_1));
        java.io.ByteArrayOutputStream elf = new java.io.ByteArrayOutputStream();
        KernelOutputs.elf(k, elf);
        byte[] e = elf.toByteArray();
        ElfHeader h = ElfHeader.parse(e, e.length);
        long off = -1;
        for (ElfProgramHeader p : h.programHeaders()) {
            if (p.type() == ElfHeader.PT_LOAD && Long.compareUnsigned(banner - p.vaddr(), p.fileSize()) < 0) off = p.offset() + banner - p.vaddr();
        }
        assertTrue(off > 0, "a segment of the ELF holds linux_banner 0x" + Long.toHexString(banner));
        assertEquals("Linux version", new String(e, (int) off, 13, StandardCharsets.ISO_8859_1));

        // the exports: the file's, moved by the slide
        List<KernelExport> fromFile = file.exports().get().exports(), fromDump = k.exports().get().exports();
        assertEquals(fromFile.size(), fromDump.size());
        java.util.Map<String, KernelExport> byName = new java.util.HashMap<>();
        for (KernelExport x : fromDump) byName.put(x.name(), x);
        long slide = rk.slide().value();
        for (KernelExport x : fromFile) {
            KernelExport d = byName.get(x.name());
            assertTrue(d != null, x.name());
            // x86-64's per-cpu variables (before 6.15) are offsets from 0, which KASLR does not move
            boolean perCpu = x.value() >= 0 && Long.compareUnsigned(x.value(), linkText) < 0;
            assertEquals(perCpu ? x.value() : x.value() + slide, d.value(), x.name());
            assertEquals(x.kind(), d.kind(), x.name());
            assertEquals(x.namespace(), d.namespace(), x.name());
            assertEquals(x.crc(), d.crc(), x.name());
        }
    }

    /**
     * QEMU's vmcoreinfo device, filled by the guest's own qemu_fw_cfg module (from Debian's
     * package of the kernel): the ELF core holds a VMCOREINFO note, as kdump's vmcore does, and
     * the slide is read from it; the guest's /proc/kallsyms less the module's own lines is ours.
     */
    @org.junit.jupiter.api.Test
    void theVmcoreinfoNoteOfQemusDevice() throws Exception {
        String id = "trixie-amd64-amd64";
        // the module boot of ModulesInTheGuestTest, which is made with the device too
        Path boot = boot(id, 4, kernelloader.module.ModulesInTheGuestTest.BOOT);
        assertEquals("1", meta(boot).getProperty("vmcoreinfo_device"), "boot 4 is made with the vmcoreinfo device");
        Kernel k = Kernel.read(boot.resolve("core.elf"), KernelOptions.DEFAULT);
        RunningKernel rk = k.running().get();
        assertEquals("the ELF core's VMCOREINFO note", rk.vmcoreinfo().where());
        long linkText = kernelFile(id).kallsyms().get().addressOf("_text");
        assertEquals(rk.runtimeText() - linkText, rk.slide().value());
        List<String> guest = Files.readAllLines(boot.resolve("kallsyms"), StandardCharsets.ISO_8859_1).stream()
                .filter(l -> !l.endsWith("]")).toList();
        StringWriter w = new StringWriter();
        KernelOutputs.procKallsyms(k, w);
        assertEquals(guest, w.toString().lines().toList());
    }

    private static byte[] readDump(Path dump, long offset, int n) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(dump)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(n);
            ch.read(b, offset);
            return b.array();
        }
    }
}
