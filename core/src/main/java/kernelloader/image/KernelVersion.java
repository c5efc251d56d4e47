package kernelloader.image;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The release a kernel states in its banner ("Linux version 6.12.57+deb13-amd64 ..."): what
 * decides era-dependent formats such as the column order of Module.symvers.
 */
public record KernelVersion(int major, int minor, int patch, String release) implements Comparable<KernelVersion> {
    private static final Pattern BANNER = Pattern.compile("Linux version (([0-9]+)\\.([0-9]+)(?:\\.([0-9]+))?\\S*)");

    /** The version in a "Linux version ..." banner, or null when there is none or it is not one. */
    public static KernelVersion fromBanner(String banner) {
        if (banner == null) return null;
        Matcher m = BANNER.matcher(banner);
        if (!m.find()) return null;
        int patch = m.group(4) == null ? 0 : Integer.parseInt(m.group(4));
        return new KernelVersion(Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), patch, m.group(1));
    }

    public static KernelVersion of(int major, int minor) {
        return new KernelVersion(major, minor, 0, major + "." + minor);
    }

    /** True if this is {@code major.minor} or later. */
    public boolean atLeast(int major, int minor) {
        return this.major != major ? this.major > major : this.minor >= minor;
    }

    @Override
    public int compareTo(KernelVersion o) {
        if (major != o.major) return Integer.compare(major, o.major);
        if (minor != o.minor) return Integer.compare(minor, o.minor);
        return Integer.compare(patch, o.patch);
    }

    @Override
    public String toString() { return release; }
}
