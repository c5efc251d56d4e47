package kernelloader.image.container;

import kernelloader.image.ByteView;
import kernelloader.image.KernelFormatException;

/**
 * Android vendor_boot image (header v3/v4, "VNDRBOOT"): vendor ramdisks, DTB and the vendor
 * command line. It carries no kernel; recognised so that users are told where the kernel is.
 */
public final class VendorBootImage implements Container {
    @Override
    public Peeled peel(ByteView v, int offset) throws KernelFormatException {
        if (!Headers.magic(v, offset, "VNDRBOOT")) return null;
        Headers.within(v, "vendor_boot header", offset, 2112);
        long version = v.u32(offset + 8), pageSize = v.u32(offset + 12);
        String cmdline = Headers.cString(v, offset + 28, 2048);
        return new Peeled("vendor_boot v" + version, offset,
                Peeled.map("page size", pageSize, "vendor ramdisk size", v.u32(offset + 24),
                        "dtb size", v.u32(offset + 2100), "cmdline", '"' + cmdline + '"'),
                -1, 0, "a vendor_boot image holds the vendor ramdisk and DTB, not the kernel: read boot.img", null);
    }
}
