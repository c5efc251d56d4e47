package kernelloader.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;
import kernelloader.layout.Architecture;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;

/**
 * The memory map of every fetched Debian kernel, read as shipped with no flags, against the
 * -dbg vmlinux: architecture and Ghidra language, the base (the bytes at nm's linux_banner read
 * "Linux version" in our map), and every region boundary we name after a symbol.
 */
@Tag("corpus")
class DebianLayoutTest {
    static List<Corpus.Kernel> kernels() {
        return Corpus.kernels();
    }

    private static final Map<String, String> LANGUAGE = Map.ofEntries(
            Map.entry("amd64", "x86:LE:64:default"), Map.entry("i386", "x86:LE:32:default"),
            Map.entry("arm64", "AARCH64:LE:64:v8A"), Map.entry("armhf", "ARM:LE:32:v8"), Map.entry("armel", "ARM:LE:32:v8"),
            Map.entry("mips64el", "MIPS:LE:64:default"), Map.entry("mipsel", "MIPS:LE:32:default"),
            Map.entry("ppc64el", "PowerPC:LE:64:default"), Map.entry("riscv64", "RISCV:LE:64:RV64GC"),
            Map.entry("loong64", "Loongarch:LE:64:lp64d"));

    private static final Map<String, Architecture> ARCH = Map.ofEntries(
            Map.entry("amd64", Architecture.X86), Map.entry("i386", Architecture.X86), Map.entry("arm64", Architecture.AARCH64),
            Map.entry("armhf", Architecture.ARM), Map.entry("armel", Architecture.ARM), Map.entry("mips64el", Architecture.MIPS),
            Map.entry("mipsel", Architecture.MIPS), Map.entry("ppc64el", Architecture.POWERPC), Map.entry("s390x", Architecture.S390X),
            Map.entry("riscv64", Architecture.RISCV), Map.entry("loong64", Architecture.LOONGARCH));

    /** Boundary symbols whose names our raw-image regions start at. */
    private static final Set<String> BOUNDARIES = Set.of("_text", "_start", "_head", "_stext", "__start_rodata", "_etext",
            "__end_rodata", "_sinittext", "__init_begin", "_einittext", "__exittext_begin", "__exittext_end", "__init_end", "_sdata", "_data",
            "__bss_start");

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void memoryMapMatchesTheDebugVmlinux(Corpus.Kernel k) throws Exception {
        Kernel m = Kernel.read(k.image(), KernelOptions.DEFAULT);
        KernelLayout layout = m.layout().get();
        assertNotNull(layout.arch(), "architecture");
        assertEquals(ARCH.get(k.debianArch()), layout.arch().value(), layout.arch().evidence());
        assertEquals(LANGUAGE.get(k.debianArch()), layout.ghidraLanguage());

        Map<String, Long> nm = k.firstAddresses();
        Long banner = nm.get("linux_banner");
        assertNotNull(banner, "linux_banner in nm");
        long off = layout.fileOffsetOf(banner);
        assertTrue(off >= 0, "linux_banner 0x" + Long.toHexString(banner) + " is in no initialised region; base 0x"
                + Long.toHexString(layout.base().value()) + " (" + layout.base().evidence() + ")");
        String read = new String(m.image().data(), (int) off, 14, StandardCharsets.ISO_8859_1);
        assertEquals("Linux version ", read, "bytes at linux_banner with base 0x" + Long.toHexString(layout.base().value()));

        if (m.image().elf() == null) {
            // the image starts at _text (_start on riscv64, _head on loongarch), as nm says
            long start = nm.containsKey("_start") && !k.debianArch().equals("s390x") ? nm.get("_start") : nm.get("_text");
            assertEquals(Long.toHexString(start), Long.toHexString(layout.base().value()), layout.base().evidence());
            for (MemoryRegion r : layout.regions()) {
                if (!r.initialized()) {
                    // bss, from a header, _end, or the exported variables in it: never past the kernel's _end
                    long end = (nm.get("_end") + 0xfff) & ~0xfffL;
                    assertTrue(Long.compareUnsigned(r.end(), end) <= 0, r.name() + " ends at 0x" + Long.toHexString(r.end())
                            + ", past nm's _end 0x" + Long.toHexString(nm.get("_end")));
                    continue;
                }
                boolean named = nm.entrySet().stream().anyMatch(e -> BOUNDARIES.contains(e.getKey()) && e.getValue() == r.start());
                assertTrue(named, r.name() + " starts at 0x" + Long.toHexString(r.start()) + ", where nm has no boundary symbol");
            }
        }
    }
}
