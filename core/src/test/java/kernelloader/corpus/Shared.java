package kernelloader.corpus;

import java.nio.file.Path;

/** ../shared, the data and tools beside the repository: SHARED_DIR where .ci/run was told it, else ../shared. */
public final class Shared {
    private Shared() {}

    public static Path data() {
        String given = System.getenv("SHARED_DIR");
        Path root = given != null && !given.isEmpty() ? Path.of(given)
                : Path.of(System.getProperty("repository.root", "..")).toAbsolutePath().normalize().resolve("../shared");
        return root.toAbsolutePath().normalize().resolve("data");
    }
}
