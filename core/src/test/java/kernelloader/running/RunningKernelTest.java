package kernelloader.running;

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

import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.kernel.KernelOutputs;

/**
 * Memory of a running kernel, booted here in Debian's QEMU by .ci/qemu-dump.sh (KASLR on, a
 * busybox initramfs that prints its /proc/kallsyms), dumped as an ELF core and as raw physical
 * memory: `list` of each dump must be the guest's own /proc/kallsyms, line for line, at its
 * runtime addresses. amd64 6.12 and 7.x (self-relative offsets: the base comes from the
 * relocated pointers), arm64 6.12 (qemu-system-aarch64 virt, RAM from 0x40000000); an ELF core
 * read as the physical memory it holds, not as an ELF.
 */
@Tag("corpus")
class RunningKernelTest {

    /** The boot's directory, made by the harness the first time (about 40 s), then cached. */
    static Path boot(String id, int n) throws IOException, InterruptedException {
        Path root = Path.of(System.getProperty("repository.root", "..")).toAbsolutePath().normalize();
        Process p = new ProcessBuilder("bash", root.resolve(".ci/qemu-dump.sh").toString(), id, String.valueOf(n))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "the QEMU harness (install its tools with .ci/run): " + out);
        String dumps = System.getenv().getOrDefault("KERNEL_DUMPS", System.getProperty("user.home") + "/.cache/kernel-dumps");
        return Path.of(dumps, id, "boot" + n);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"trixie-amd64-amd64, core.elf", "trixie-amd64-amd64, raw.bin", "sid-amd64-amd64, core.elf", "sid-amd64-amd64, raw.bin",
                "trixie-arm64-arm64, core.elf", "trixie-arm64-arm64, raw.bin"})
    void listIsTheGuestsProcKallsyms(String id, String dump) throws Exception {
        Path boot = boot(id, 1);
        Properties meta = new Properties();
        try (var r = Files.newBufferedReader(boot.resolve("meta.env"))) {
            meta.load(r);
        }
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
}
