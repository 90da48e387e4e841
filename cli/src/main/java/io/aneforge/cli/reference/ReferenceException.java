package io.aneforge.cli.reference;

/**
 * The reference cannot be computed; the message names the problem and the fix. {@link #usage()} tells a wrong
 * command line (a --source whose ONNX model does not fit the package) from a machine that cannot run it.
 */
public final class ReferenceException extends RuntimeException {
    private final boolean usage;

    public ReferenceException(String message, boolean usage, Throwable cause) {
        super(message, cause);
        this.usage = usage;
    }

    /** True when another --source or --reference fixes it (exit 2), false when the machine is the problem (exit 1). */
    public boolean usage() {
        return usage;
    }
}
