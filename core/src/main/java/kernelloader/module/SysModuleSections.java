package kernelloader.module;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import kernelloader.image.KernelFormatException;
import kernelloader.kernel.KernelOptions;

/**
 * Where a running kernel put a module's sections, as the user copied them off the device:
 * /sys/module/NAME/sections itself (a directory, one file per section holding its address), or
 * text, one section per line, as "NAME ADDR" or as `grep . /sys/module/NAME/sections/*` prints
 * it ("PATH/NAME:ADDR").
 */
public final class SysModuleSections {
    private SysModuleSections() {}

    /** Section name to address, in the order given. */
    public static Map<String, Long> read(Path p) throws IOException, KernelFormatException {
        Map<String, Long> m = new LinkedHashMap<>();
        if (Files.isDirectory(p)) {
            try (var files = Files.list(p)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    m.put(f.getFileName().toString(), address(p, Files.readString(f).trim()));
                }
            }
            return m;
        }
        if (Files.size(p) > (16 << 20)) throw new KernelFormatException(p + ": " + Files.size(p) + " bytes is no list of section addresses");
        for (String line : Files.readAllLines(p)) {
            String s = line.trim();
            if (s.isEmpty()) continue;
            int colon = s.lastIndexOf(':');
            String name, addr;
            if (colon > 0 && !s.contains(" ")) {
                name = s.substring(0, colon).replaceAll(".*/", "");
                addr = s.substring(colon + 1);
            } else {
                String[] f = s.split("\\s+");
                if (f.length < 2) throw new KernelFormatException(p + ": '" + line + "' is not 'NAME ADDR'");
                name = f[f.length - 2];
                addr = f[f.length - 1];
            }
            m.put(name, address(p, addr));
        }
        return m;
    }

    private static long address(Path p, String text) throws KernelFormatException {
        try {
            return KernelOptions.parseHex(text);
        } catch (RuntimeException e) {
            throw new KernelFormatException(p + ": '" + text + "' is not a hexadecimal address");
        }
    }
}
