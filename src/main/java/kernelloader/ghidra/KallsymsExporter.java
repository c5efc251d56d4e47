package kernelloader.ghidra;

import java.io.File;
import java.io.IOException;
import java.util.List;

import ghidra.app.util.DomainObjectService;
import ghidra.app.util.Option;
import ghidra.app.util.exporter.Exporter;
import ghidra.app.util.exporter.ExporterException;
import ghidra.framework.model.DomainObject;
import ghidra.program.model.address.AddressSetView;
import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;

/** File→Export "Linux /proc/kallsyms": the kernel's symbol table as /proc/kallsyms prints it. */
public class KallsymsExporter extends Exporter {
    public KallsymsExporter() {
        super("Linux /proc/kallsyms", "kallsyms", null);
    }

    @Override
    public boolean canExportDomainObject(Class<? extends DomainObject> type) {
        return Program.class.isAssignableFrom(type);
    }

    @Override
    public List<Option> getOptions(DomainObjectService service) {
        return EMPTY_OPTIONS;
    }

    @Override
    public void setOptions(List<Option> options) {
        // none
    }

    @Override
    public boolean export(File file, DomainObject obj, AddressSetView set, TaskMonitor monitor) throws ExporterException, IOException {
        if (!(obj instanceof Program p)) throw new ExporterException("not a program: " + obj.getName());
        try {
            int n = ScriptSupport.exportKallsyms(p, file.toPath());
            log.appendMsg(getName(), n + " symbols written to " + file);
            return true;
        } catch (ghidra.program.model.mem.MemoryAccessException e) {
            throw new ExporterException(e.getMessage());
        }
    }
}
