package kernelloader.core;

import java.util.List;
import java.util.Map;

import kernelloader.image.KernelImage;
import kernelloader.kallsyms.KallsymsTable;

/**
 * Everything the core learned about one kernel file: the peeled image, its symbol table, the
 * version banner, and how long each phase took. What the CLI prints and Ghidra applies.
 */
public record KernelModel(String source, long fileSize, KernelImage image, KallsymsTable kallsyms,
                          String versionBanner, List<String> attempts, Map<String, Long> timingsMillis) {

    /** The release the banner states, or null without a banner. */
    public kernelloader.image.KernelVersion version() {
        return kernelloader.image.KernelVersion.fromBanner(versionBanner);
    }
}
