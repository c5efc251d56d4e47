package kernelloader.ghidra;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import ghidra.app.util.DomainObjectService;
import ghidra.app.util.Option;
import ghidra.app.util.exporter.Exporter;
import ghidra.app.util.exporter.ExporterException;
import ghidra.framework.model.DomainObject;
import ghidra.program.model.address.AddressSetView;
import ghidra.program.model.listing.Program;
import ghidra.util.task.TaskMonitor;

/** File→Export of a kernel program through ScriptSupport: the shared part of our exporters. */
abstract class KernelExporter extends Exporter {
    KernelExporter(String name, String extension) {
        super(name, extension, null);
    }

    /** Writes the program to {@code out}; returns the number of symbols written. */
    abstract int write(Program program, Path out) throws IOException;

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
        int n = write(p, file.toPath());
        log.appendMsg(getName(), n + " symbols written to " + file);
        return true;
    }
}
