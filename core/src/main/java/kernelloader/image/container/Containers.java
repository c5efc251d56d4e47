package kernelloader.image.container;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Every container format, in the order they are tried at one offset. */
public final class Containers {
    private Containers() {}

    public static final List<Container> ALL = List.of(
            new AndroidBootImage(), new VendorBootImage(), new UImage(), new FitImage(), new UncompressedImg(),
            new PeImage(), new BzImage(), new ArmZImage(), new Arm64Image(), new RiscvImage(), new S390BootImage());

    /**
     * Magic bytes at the start of a container, for the scan of files with leading garbage
     * (formats whose magic sits elsewhere in their header are found at offset 0 only).
     */
    public static final List<byte[]> SCANNED_MAGICS = List.of(
            "ANDROID!".getBytes(StandardCharsets.ISO_8859_1),
            "VNDRBOOT".getBytes(StandardCharsets.ISO_8859_1),
            new byte[] {0x27, 0x05, 0x19, 0x56},
            "UNCOMPRESSED_IMG".getBytes(StandardCharsets.ISO_8859_1));
}
