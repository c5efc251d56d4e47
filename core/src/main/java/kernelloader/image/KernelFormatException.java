package kernelloader.image;

/**
 * The one error the core raises for input it cannot make sense of. Its message is a single line
 * for a person: what was looked for, what was tried, and the likely reason.
 */
public class KernelFormatException extends Exception {
    public KernelFormatException(String message) {
        super(message);
    }
}
