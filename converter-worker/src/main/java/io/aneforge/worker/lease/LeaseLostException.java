package io.aneforge.worker.lease;

/** This worker no longer holds the conversion's lease (taken over after expiry, or cancelled): stop, report nothing. */
public class LeaseLostException extends RuntimeException {
    public LeaseLostException(String message) {
        super(message);
    }
}
