package kernelloader.module;

import java.util.ArrayList;
import java.util.List;

import kernelloader.image.ElfSectionHeader;

/**
 * One of a linked module's own symbols at its address, with the type letter /proc/kallsyms
 * shows for it ('t' text, 'd' data, 'r' read-only, 'b' bss; upper case for globals, 'W' weak)
 * and its ELF size (0 where the object file gives none); a function is an STT_FUNC in an
 * executable section. The ELF writer and the Ghidra loader
 * both take a module's symbols from here.
 */
public record LinkedSymbol(String name, long address, char type, long size, boolean function) {

    /**
     * The module's defined symbols in loaded sections, without section and file symbols and
     * without arm's mapping symbols ($x, $d, ...), which the kernel's kallsyms leaves out too.
     */
    public static List<LinkedSymbol> of(ModuleLinker.Linked l) {
        KernelModuleFile m = l.module();
        List<LinkedSymbol> out = new ArrayList<>();
        for (ModuleSymbol s : m.symbols()) {
            if (s.index() == 0 || s.name().isEmpty() || s.name().startsWith("$") || s.type() == ModuleSymbol.STT_SECTION
                    || s.type() == ModuleSymbol.STT_FILE || s.undefined() || s.shndx() == ModuleSymbol.SHN_ABS) continue;
            if (s.shndx() >= m.sections().size() || l.layout().addressOf(m, s.shndx()) == null) continue;
            ElfSectionHeader sec = m.sections().get(s.shndx());
            boolean exec = (sec.flags() & ElfSectionHeader.SHF_EXECINSTR) != 0;
            char t = exec ? 't' : sec.type() == ElfSectionHeader.SHT_NOBITS ? 'b' : (sec.flags() & ElfSectionHeader.SHF_WRITE) != 0 ? 'd' : 'r';
            if (s.bind() == ModuleSymbol.STB_GLOBAL) t = Character.toUpperCase(t);
            if (s.bind() == ModuleSymbol.STB_WEAK) t = 'W';
            out.add(new LinkedSymbol(s.name(), l.symbolValues()[s.index()], t, s.size(), exec && s.type() == ModuleSymbol.STT_FUNC));
        }
        return out;
    }
}
