package kernelloader.cli;

import kernelloader.image.KernelFormatException;

/**
 * A command line that cannot be used as given (a bad option value): said in one line naming the
 * option, exit code 2, as picocli's own parse errors are.
 */
final class UsageError extends KernelFormatException {
    UsageError(String message) {
        super(message);
    }
}
