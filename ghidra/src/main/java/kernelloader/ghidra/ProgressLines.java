package kernelloader.ghidra;

import java.io.PrintStream;

import ghidra.util.task.TaskMonitorAdapter;

/**
 * A task monitor for ./kallsyms import that prints each new step ("Creating kallsyms labels",
 * "Disassembling 58949 functions", an analyzer's name) as one line on stderr with the time
 * since the import began, so that a long import shows where it is; a step that counts prints
 * again every ten seconds while it lasts.
 */
final class ProgressLines extends TaskMonitorAdapter {
    private final PrintStream out;
    private final long t0 = System.nanoTime();
    private String last = "", lastKind = "";
    private long lastLine;
    /** A counting step prints again after this long. */
    static final long REPEAT_NANOS = 10_000_000_000L;

    ProgressLines(PrintStream out) {
        super(true);
        this.out = out;
    }

    @Override
    public synchronized void setMessage(String message) {
        if (message == null || message.isBlank()) return;
        // a step that counts ("Disassembled 12 K") is one line when it starts, then one every
        // few seconds, so a long step shows it is moving without a line per count
        String kind = message.replaceAll("[0-9]+", "#");
        long now = System.nanoTime();
        if (kind.equals(lastKind) && now - lastLine < REPEAT_NANOS) return;
        lastKind = kind;
        lastLine = now;
        last = message;
        out.printf("kallsyms: import: %6.1f s  %s%n", (System.nanoTime() - t0) / 1e9, message.strip());
    }

    @Override
    public String getMessage() {
        return last;
    }
}
