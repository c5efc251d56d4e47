package kernelloader.kernel;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What reading a kernel tried on the way and what each phase cost, as `info --json` shows it
 * (the failure line of a file without kallsyms is made from the same attempts). A snapshot: it
 * does not change when more facets are computed later.
 *
 * @param attempts      every container and stream peeled or refused, in search order
 * @param rejected      kallsyms candidates found and refused, with why
 * @param timingsMillis milliseconds per phase, in the order the phases ran
 */
public record Diagnostics(List<String> attempts, List<String> rejected, Map<String, Long> timingsMillis) {

    /** The mutable side, kept by the Kernel while its facets are computed. */
    static final class Recorder {
        private final List<String> attempts = new ArrayList<>();
        private final List<String> rejected = new ArrayList<>();
        private final Map<String, Long> nanos = new LinkedHashMap<>();

        synchronized void time(String phase, long ns) {
            nanos.merge(phase, ns, Long::sum);
        }

        synchronized void attempts(List<String> a) {
            attempts.addAll(a);
        }

        synchronized void rejected(List<String> r) {
            rejected.addAll(r);
        }

        synchronized Diagnostics snapshot() {
            Map<String, Long> ms = new LinkedHashMap<>();
            nanos.forEach((k, v) -> ms.put(k, v / 1_000_000));
            return new Diagnostics(List.copyOf(attempts), List.copyOf(rejected), Collections.unmodifiableMap(ms));
        }
    }
}
