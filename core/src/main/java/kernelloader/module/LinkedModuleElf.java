package kernelloader.module;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import kernelloader.elf.ElfWriter;
import kernelloader.image.ElfSectionHeader;
import kernelloader.image.KernelImage;
import kernelloader.image.Layer;
import kernelloader.kallsyms.KallsymsTable;
import kernelloader.layout.Architecture;
import kernelloader.layout.Inference;
import kernelloader.layout.KernelLayout;
import kernelloader.layout.MemoryRegion;

/**
 * A linked module as an ELF executable, written by the kernel's ELF writer: a segment and a
 * section per loaded section at its address, its bytes relocated, a .symtab with the module's
 * own symbols at their addresses and every import at the kernel's (or another module's) address,
 * absolute: what a disassembler needs to show calls to printk and kmalloc by name.
 */
public final class LinkedModuleElf {
    private LinkedModuleElf() {}

    /** Writes {@code l}; returns the number of symbols. */
    public static int write(ModuleLinker.Linked l, OutputStream out) throws IOException {
        KernelModuleFile m = l.module();
        List<ModuleLayout.Placed> placed = new ArrayList<>(l.layout().sections());
        placed.removeIf(p -> p.size() == 0);
        placed.sort(Comparator.comparingLong(ModuleLayout.Placed::address));
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        List<MemoryRegion> regions = new ArrayList<>();
        for (ModuleLayout.Placed p : placed) {
            long flags = p.flags(m);
            String perm = "r" + ((flags & ElfSectionHeader.SHF_WRITE) != 0 ? "w" : "-") + ((flags & ElfSectionHeader.SHF_EXECINSTR) != 0 ? "x" : "-");
            if (p.nobits(m)) {
                regions.add(new MemoryRegion(p.name(), p.address(), p.size(), -1, perm));
            } else {
                regions.add(new MemoryRegion(p.name(), p.address(), p.size(), bytes.size(), perm));
                bytes.write(l.sections().get(p.index()));
            }
        }
        List<Long> addresses = new ArrayList<>();
        List<Character> types = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (LinkedSymbol s : LinkedSymbol.of(l)) {
            addresses.add(s.address());
            types.add(s.type());
            names.add(s.name());
        }
        for (ModuleLinker.Import im : l.imports()) {
            addresses.add(im.address());
            types.add('U');
            names.add(im.name());
        }
        // ascending, as a kallsyms table is
        Integer[] order = new Integer[names.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Long.compareUnsigned(addresses.get(a), addresses.get(b)));
        long[] addr = new long[order.length];
        byte[] ty = new byte[order.length];
        String[] nm = new String[order.length];
        for (int i = 0; i < order.length; i++) {
            addr[i] = addresses.get(order[i]);
            ty[i] = (byte) (char) types.get(order[i]);
            nm[i] = names.get(order[i]);
        }
        int bits = m.elf().bits();
        KallsymsTable table = KallsymsTable.of(KallsymsTable.Origin.SYMBOLS_FILE, bits, m.elf().order(), addr, ty, nm, "the module's .symtab, linked");
        Architecture arch = Architecture.ofElfMachine(m.elf().machine());
        long base = regions.isEmpty() ? 0 : regions.get(0).start();
        KernelLayout layout = new KernelLayout(Inference.certain(arch, "the module's e_machine"), bits, m.elf().order(),
                Inference.certain(base, "the module's lowest section"), regions, Inference.certain(base, "none: a module has no entry point"));
        byte[] data = bytes.toByteArray();
        KernelImage image = new KernelImage(data, data.length, List.of(new Layer("module", 0, data.length, m.name())), null);
        return new ElfWriter(image, table, layout).write(out);
    }
}
