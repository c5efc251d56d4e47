package kernelloader.code;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import kernelloader.corpus.Corpus;
import kernelloader.kernel.Kernel;
import kernelloader.kernel.KernelOptions;

/**
 * The kernel's __bug_table, against the -dbg vmlinux's own __start___bug_table and
 * __stop___bug_table: where kallsyms names them (KALLSYMS_ALL) and where it does not (bookworm
 * arm64: found by content), every entry read, WARN and BUG sites told apart by their flags.
 */
@Tag("corpus")
class BugTableTest {
    @ParameterizedTest
    @CsvSource({
        "trixie-amd64-amd64, between",
        "trixie-arm64-arm64, between",
        "bookworm-arm64-arm64, by content",
        "sid-arm64-arm64, between",
    })
    void everyEntryOfTheKernelsBugTable(String id, String how) throws Exception {
        Corpus.Kernel c = Corpus.kernel(id);
        Kernel k = Kernel.read(c.image(), KernelOptions.DEFAULT);
        BugTable.Found f = BugTable.find(k.kallsyms().get(), k.layout().get(), k.relocated());
        assertNotNull(f, id);
        Map<String, Long> nm = c.firstAddresses();
        long start = nm.get("__start___bug_table"), stop = nm.get("__stop___bug_table");
        assertTrue(f.how().startsWith(how), f.how());
        assertEquals(start, f.address(), "table start");
        assertEquals(12, f.stride(), "CONFIG_DEBUG_BUGVERBOSE entries");
        assertEquals((stop - start) / 12, f.sites().size(), "every entry");
        long warnings = f.sites().stream().filter(BugTable.Site::warning).count();
        assertTrue(warnings > 500 && f.sites().size() - warnings > 500, warnings + " WARN of " + f.sites().size());
    }
}
