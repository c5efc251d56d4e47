package kernelloader.layout;

/**
 * One region of the kernel's memory map.
 *
 * @param fileOffset where its bytes are in the peeled image, or -1 for uninitialised (bss)
 * @param permissions "r-x", "r--", "rw-", "rwx"
 */
public record MemoryRegion(String name, long start, long size, long fileOffset, String permissions) {
    public long end() { return start + size; }
    public boolean initialized() { return fileOffset >= 0; }
    public boolean contains(long va) { return Long.compareUnsigned(va, start) >= 0 && Long.compareUnsigned(va, end()) < 0; }
}
