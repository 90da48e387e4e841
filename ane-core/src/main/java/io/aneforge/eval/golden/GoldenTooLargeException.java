package io.aneforge.eval.golden;

/**
 * A golden-outputs blob whose tensors decode to more bytes than the reader was allowed to allocate: the reader's
 * caller may name its own setting for the bound (the message names the JVM's heap).
 */
public class GoldenTooLargeException extends GoldenFormatException {

    private final long decodedBytes;
    private final long maxDecodedBytes;

    public GoldenTooLargeException(String message, long decodedBytes, long maxDecodedBytes) {
        super(message);
        this.decodedBytes = decodedBytes;
        this.maxDecodedBytes = maxDecodedBytes;
    }

    /** The bytes decoded so far, counting the tensor that passed the bound (at least that much). */
    public long decodedBytes() {
        return decodedBytes;
    }

    public long maxDecodedBytes() {
        return maxDecodedBytes;
    }
}
