package kernelloader.elf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import kernelloader.TestFiles;
import kernelloader.btf.BtfLocator;
import kernelloader.corpus.DebianBtfTest;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;
import kernelloader.corpus.Corpus;
import kernelloader.layout.KernelLayout;

/**
 * The ELF we write for every fetched Debian kernel, read back by binutils (which knows nothing
 * of our code): readelf accepts it without a warning, names the right machine, class and byte
 * order; nm finds start_kernel at nm-of-the-dbg-vmlinux's address; objdump shows "Linux
 * version" at linux_banner's address.
 */
@Tag("corpus")
class ElfExportTest {
    static List<Corpus.Kernel> kernels() {
        return Corpus.kernels();
    }

    private static final Map<String, String> MACHINE = Map.ofEntries(
            Map.entry("amd64", "Advanced Micro Devices X86-64"), Map.entry("i386", "Intel 80386"),
            Map.entry("arm64", "AArch64"), Map.entry("armhf", "ARM"), Map.entry("armel", "ARM"),
            Map.entry("mips64el", "MIPS R3000"), Map.entry("mipsel", "MIPS R3000"), Map.entry("ppc64el", "PowerPC64"),
            Map.entry("s390x", "IBM S/390"), Map.entry("riscv64", "RISC-V"), Map.entry("loong64", "LoongArch"));

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void binutilsReadTheElf(Corpus.Kernel k) throws Exception {
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        KernelLayout layout = m.layout().get();
        Path dir = TestFiles.tempDir("elf");
        Path elf = dir.resolve(k.id + ".elf");
        // as `elf` does: the kernel's BTF in a .BTF section, where bpftool and libbpf look in a vmlinux
        boolean hasBtf = Files.readAllLines(k.dir.resolve("config")).contains("CONFIG_DEBUG_INFO_BTF=y");
        BtfLocator.Found btf = m.btf().orNull();
        assertEquals(hasBtf, btf != null, "BTF found");
        // the very ELF `elf` writes (relocations included)
        try (var out = Files.newOutputStream(elf)) {
            KernelOutputs.elf(m, out);
        }
        try {
            if (btf != null) {
                String bpftool = run("bpftool btf dump file " + elf);
                assertEquals(Files.readString(DebianBtfTest.truth(k).resolve("bpftool.raw")), bpftool,
                        "bpftool reads our ELF's .BTF as the -dbg vmlinux's");
            }
            TestFiles.sh("readelf -a -W " + elf + " > " + dir.resolve("readelf.out") + " 2> " + dir.resolve("readelf.err"));
            String err = Files.readString(dir.resolve("readelf.err"));
            assertEquals("", err, "readelf complains");
            String header = run("readelf -h " + elf);
            assertTrue(header.contains("ELF" + k.bits()), header);
            assertTrue(header.contains(k.bigEndian() ? "big endian" : "little endian"), header);
            assertTrue(header.contains("Machine:                           " + MACHINE.get(k.debianArch())), header);

            Map<String, Long> nm = k.firstAddresses();
            String start = run("nm " + elf + " | grep -E ' T start_kernel$'");
            // (binutils prints a 32-bit MIPS ELF's addresses sign-extended to 64 bits)
            long mask = k.bits() == 32 ? 0xffffffffL : -1L;
            assertEquals(Long.toHexString(nm.get("start_kernel")), Long.toHexString(Long.parseUnsignedLong(start.trim().split(" ")[0], 16) & mask));
            int symbols = Integer.parseInt(run("nm " + elf + " | wc -l").trim());
            assertEquals(m.kallsyms().get().size(), symbols, "every kallsyms symbol in .symtab");

            long banner = nm.get("linux_banner");
            String dump = run("objdump -s --start-address=0x" + Long.toHexString(banner) + " --stop-address=0x"
                    + Long.toHexString(banner + 14) + " " + elf);
            assertTrue(dump.contains("Linux version"), dump);

            if (m.relocations().present()) {
                // relocated as the kernel does at boot: the first system call's address is where the Image has 0
                long table = nm.get("sys_call_table");
                String words = run("objdump -s --start-address=0x" + Long.toHexString(table) + " --stop-address=0x"
                        + Long.toHexString(table + 8) + " " + elf + " | grep -E '^ [0-9a-f]+ ' | head -1");
                String[] f = words.trim().split("\\s+");
                String hex = f[1] + f[2];
                long value = 0;
                for (int i = 7; i >= 0; i--) value = value << 8 | Long.parseLong(hex.substring(2 * i, 2 * i + 2), 16);
                String first = k.debianArch().equals("arm64") ? "__arm64_sys_io_setup" : null;
                if (first != null) assertEquals(Long.toHexString(nm.get(first)), Long.toHexString(value), "sys_call_table[0] in the ELF: " + words);
            }
        } finally {
            Files.deleteIfExists(elf);
        }
    }

    private static String run(String cmd) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }
}
