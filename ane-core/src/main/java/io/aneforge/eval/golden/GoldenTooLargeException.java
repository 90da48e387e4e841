package io.aneforge.eval.golden;

/**
 * A golden-outputs blob whose tensors would hold more bytes once decoded (their floats without trailing zeros,
 * {@code GoldenTensor}) than the reader was allowed to allocate: the reader's caller may name its own setting for the
 * bound (the message names the JVM's heap).
 */
public class GoldenTooLargeException extends GoldenFormatException {

    private final long heldBytes;
    private final long maxHeldBytes;

    public GoldenTooLargeException(String message, long heldBytes, long maxHeldBytes) {
        super(message);
        this.heldBytes = heldBytes;
        this.maxHeldBytes = maxHeldBytes;
    }

    /** The bytes held so far, counting the floats that passed the bound (the whole blob holds at least that much). */
    public long heldBytes() {
        return heldBytes;
    }

    public long maxHeldBytes() {
        return maxHeldBytes;
    }
}
