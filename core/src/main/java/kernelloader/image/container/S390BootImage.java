package kernelloader.image.container;

import kernelloader.image.ByteView;

/** s390x boot image: the IPL header, with "S390EP" at 0x10008; the kernel is compressed inside. */
public final class S390BootImage implements Container {
    @Override
    public Peeled peel(ByteView v, int offset) {
        if (!Headers.magic(v, offset + 0x10008, "S390EP")) return null;
        return Peeled.header("s390 boot image", offset, Peeled.map()).withArch("S390X");
    }
}
