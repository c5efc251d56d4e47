package kernelloader.ghidra;

import java.io.PrintStream;

import ghidra.util.task.TaskMonitorAdapter;

/**
 * A task monitor for ./kallsyms import that prints each new step ("Creating kallsyms labels",
 * "Disassembling 58949 functions", an analyzer's name) as one line on stderr with the time
 * since the import began, so that a long import shows where it is. Progress counts are not
 * printed: a step is one line.
 */
final class ProgressLines extends TaskMonitorAdapter {
    private final PrintStream out;
    private final long t0 = System.nanoTime();
    private String last = "", lastKind = "";

    ProgressLines(PrintStream out) {
        super(true);
        this.out = out;
    }

    @Override
    public synchronized void setMessage(String message) {
        if (message == null || message.isBlank()) return;
        // a step that counts ("Disassembled 12 K", "Applying ... 3 of 9") is one line, not one per count
        String kind = message.replaceAll("[0-9]+", "#");
        if (kind.equals(lastKind)) return;
        lastKind = kind;
        last = message;
        out.printf("kallsyms: import: %6.1f s  %s%n", (System.nanoTime() - t0) / 1e9, message.strip());
    }

    @Override
    public String getMessage() {
        return last;
    }
}
