package kernelloader.cli;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.GsonBuilder;

import kernelloader.core.KernelModel;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsLayout;
import kernelloader.kallsyms.KallsymsTable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kallsyms info}: what was found, for a person or (with --json) for a program. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Describe the kernel: layers peeled, version, word size, byte order, kallsyms arrays, timings.")
final class InfoCommand implements Callable<Integer> {
    @CommandLine.Mixin
    KallsymsCli.KernelOptionsMixin opts;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        KernelModel m = opts.read();
        m.timingsMillis().put("total", (System.nanoTime() - t0) / 1_000_000);
        Map<String, Object> info = toMap(m);
        PrintStream out = System.out;
        if (json) {
            out.println(new GsonBuilder().disableHtmlEscaping().create().toJson(info));
        } else {
            printText(out, m);
        }
        return 0;
    }

    static Map<String, Object> toMap(KernelModel m) {
        KallsymsTable k = m.kallsyms();
        KallsymsLayout l = k.layout();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("file", m.source());
        info.put("file_size", m.fileSize());
        java.util.List<Map<String, Object>> layers = new java.util.ArrayList<>();
        for (Layer layer : m.image().layers()) {
            Map<String, Object> lm = new LinkedHashMap<>();
            lm.put("kind", layer.kind());
            lm.put("offset", layer.offset());
            if (layer.length() >= 0) lm.put("length", layer.length());
            if (!layer.detail().isEmpty()) lm.put("detail", layer.detail());
            layers.add(lm);
        }
        info.put("layers", layers);
        info.put("image_size", m.image().length());
        info.put("kernel_version", m.versionBanner());
        info.put("bits", k.bits());
        info.put("endian", k.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? "little" : "big");
        info.put("symbols", k.size());
        Map<String, Object> ks = new LinkedHashMap<>();
        ks.put("era", l.era());
        ks.put("address_encoding", l.encoding().name().toLowerCase());
        ks.put("name_lengths", l.lengthsUleb128() ? "uleb128" : "byte");
        ks.put("marker_width", l.markerWidth());
        ks.put("base_evidence", k.baseEvidence());
        Map<String, String> arrays = new LinkedHashMap<>();
        l.arrays().forEach((name, off) -> arrays.put(name, "0x" + Integer.toHexString(off)));
        ks.put("arrays", arrays);
        info.put("kallsyms", ks);
        info.put("config", kernelloader.image.IkConfig.summary(kernelloader.image.IkConfig.find(m.image())));
        info.put("timings", m.timingsMillis());
        return info;
    }

    private static void printText(PrintStream out, KernelModel m) {
        KallsymsTable k = m.kallsyms();
        KallsymsLayout l = k.layout();
        out.printf("file:            %s (%d bytes)%n", m.source(), m.fileSize());
        out.printf("layers:          %s%n", m.image().describeLayers());
        for (Layer layer : m.image().layers()) out.printf("                 - %s%n", layer);
        out.printf("kernel version:  %s%n", m.versionBanner() == null ? "(no banner found)" : m.versionBanner());
        out.printf("word size:       %d-bit%n", k.bits());
        out.printf("byte order:      %s-endian%n", k.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? "little" : "big");
        out.printf("symbols:         %d%n", k.size());
        out.printf("kallsyms layout: %s era; %s; %s name lengths; %d-byte markers%n", l.era(),
                l.encoding().description(), l.lengthsUleb128() ? "ULEB128" : "one-byte", l.markerWidth());
        out.printf("addresses:       %s%n", k.baseEvidence());
        String config = kernelloader.image.IkConfig.summary(kernelloader.image.IkConfig.find(m.image()));
        out.printf("config:          %s%n", config == null ? "not embedded (no CONFIG_IKCONFIG)" : config);
        out.println("kallsyms arrays (offsets in the peeled image):");
        l.arrays().forEach((name, off) -> out.printf("  %-24s 0x%x%n", name, off));
        out.print("timings (ms):   ");
        m.timingsMillis().forEach((phase, ms) -> out.printf(" %s %d", phase, ms));
        out.println();
    }
}
